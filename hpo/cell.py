"""Run one benchmark cell: one tuner, one seed, one profile, in its own directory."""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import os
import random
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

from hpo.data import Splits, check_seed, load_splits
from hpo.errors import CellStopped, HpoError
from hpo.memory import peak_rss_mb, reset_peak
from hpo.profiles import Profile, get_profile
from hpo.progress import ProgressFn
from hpo.results import CellResult, cell_name, read_json, write_json
from hpo.space import build_model
from hpo.tuners import BATCH_SIZE, make_tuner


def versions() -> dict[str, str]:
    """Library versions, the Keras backend and a hash of hpo's code: what a result depends on."""
    import sklearn
    import tensorflow as tf

    return {
        "hpo_source": _source_hash(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_tuner": kt.__version__,
        "keras_backend": keras.backend.backend(),
        "scikit_learn": sklearn.__version__,
        "numpy": np.__version__,
    }


@functools.cache
def _source_hash() -> str:
    """A digest of hpo's own modules: a record made by other code is not reused."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and Keras (and through it the backend)."""
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def set_threads(n: int) -> None:
    """Size TensorFlow's intra- and inter-op thread pools; only before it runs an op.

    Small models gain little from threads, and parallel cells should not
    oversubscribe the cores: a worker per core runs each with one thread.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError as e:
        raise HpoError(f"cannot set TensorFlow threads to {n}: {e}") from None


def run_cell(
    tuner: str,
    seed: int,
    profile: str,
    workdir: str | os.PathLike[str] | None = None,
    progress: ProgressFn | None = None,
    hypermodel: Callable[[kt.HyperParameters], Any] = build_model,
    resume: bool = False,
) -> CellResult:
    """Search with `tuner` on the seed's split and judge its best model on the test rows.

    `workdir` holds Keras Tuner's project (trials, checkpoints) and hpo's trial
    log; a fresh temporary directory is used and removed when it is None. With
    `resume`, a project already in `workdir` is continued, not replaced. The
    same arguments give the same record, apart from times, resumed or not.
    """
    seed = check_seed(seed)
    prof = get_profile(profile)
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix=f"hpo-{tuner}-{seed}-") as tmp:
            return run_cell(tuner, seed, profile, tmp, progress, hypermodel)

    splits = load_splits(seed)
    seed_everything(seed)
    search = make_tuner(
        tuner,
        prof,
        seed,
        str(workdir),
        hypermodel=hypermodel,
        progress=progress,
        overwrite=not resume,
    )
    reset_peak()
    with _frozen_gc(), warnings.catch_warnings():
        # Hyperband's later rounds, and get_best_models(), load saved weights into a
        # model whose optimizer is not built yet; Keras warns and the optimizer starts
        # afresh. That is Keras Tuner's design, not a fault of this run.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        fit_args, fit_kwargs = search_kwargs(splits, prof)
        try:
            search.search(*fit_args, **fit_kwargs)
        except RuntimeError as e:
            if "consecutive failures" not in str(e):
                raise
            last = search.history[-1].get("error", "no reason given") if search.history else ""
            raise CellStopped(
                f"{tuner} seed={seed} {prof.name}: stopped, {e.args[0].splitlines()[0].lower()}"
                f" (last: {last}); its trials are logged in {search.log_path}"
            ) from None
        return evaluate_search(
            search,
            tuner,
            seed,
            prof,
            splits,
            search.history,
            search.search_time_s(),
            peak_rss_mb=peak_rss_mb(),
            resumes=search.resumes,
        )


def run_saved_cell(
    tuner: str,
    seed: int,
    profile: str,
    record_path: str | os.PathLike[str],
    progress: ProgressFn | None = None,
    force: bool = False,
    keep: bool = False,
    wait: bool = False,
    search: Callable[[Path], CellResult] | None = None,
    calibration_s: float | None = None,
) -> tuple[CellResult, str]:
    """Run a cell whose record lives at `record_path`; resume it if it was interrupted.

    Returns the record and what happened: "reused" (a record made by this code
    and these libraries was there already), "resumed" or "ran". The cell works
    in `<record stem>.work/` beside the record, which is kept while the cell is
    unfinished (so it can resume) and removed once the record is written,
    unless `keep`. `force` discards both and runs anew. Another process running
    the same cell is an error, or, with `wait`, is waited for. `search(workdir)`
    replaces the in-process `run_cell` (hpo.distributed passes its own);
    `calibration_s` is this session's machine-speed yardstick, stored with it.
    """
    record_path = Path(record_path)
    workdir = record_path.with_name(record_path.stem + ".work")
    with _cell_lock(record_path, wait):
        if force:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            saved = saved_record(record_path, tuner, seed, profile)
            if saved is not None:
                if not keep:  # left by a kill between writing the record and removing it
                    shutil.rmtree(workdir, ignore_errors=True)
                return saved, "reused"
        stamp = workdir / "hpo-cell.json"
        resumed = stamp.exists() and _same_code(read_json(stamp))
        if not resumed:
            shutil.rmtree(workdir, ignore_errors=True)  # none, or another code's project
            write_json(stamp, {"cell": cell_name(tuner, seed, profile), "versions": versions()})
        if search is None:
            result = run_cell(tuner, seed, profile, workdir, progress=progress, resume=True)
        else:
            result = search(workdir)
        result.calibration_s = calibration_s
        write_json(record_path, result.to_dict())
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        return result, "resumed" if result.resumes else "ran"


def _same_code(stamp: Any) -> bool:
    return isinstance(stamp, dict) and stamp.get("versions") == versions()


def saved_record(path: Path, tuner: str, seed: int, profile: str) -> CellResult | None:
    """The record at `path` if it is this cell's, made by this code and libraries, else None.

    A record of another cell, or a file that is not a record, is an error.
    """
    if not path.exists():
        return None
    try:
        record = CellResult.from_dict(read_json(path), str(path))
    except HpoError as e:
        raise HpoError(f"{e} (--force replaces it)") from None
    if (record.tuner, record.seed, record.profile) != (tuner, seed, profile):
        raise HpoError(
            f"{path} holds the record of {record.tuner} seed={record.seed} {record.profile}, "
            f"not of {tuner} seed={seed} {profile}"
        )
    return record if record.versions == versions() else None


@contextlib.contextmanager
def _cell_lock(record_path: Path, wait: bool) -> Iterator[None]:
    """One process at a time per cell (an advisory lock the OS drops if the process dies)."""
    import fcntl

    lock_path = record_path.with_name(f".{record_path.name}.lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock_path, "a+")  # noqa: SIM115 (held until the cell ends)
    except OSError as e:
        raise HpoError(f"cannot write in {record_path.parent}: {e.strerror or e}") from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise HpoError(
                f"another process is running this cell ({record_path.name}); "
                "wait for it or stop it first"
            ) from None
        yield


def run_cell_isolated(
    tuner: str,
    seed: int,
    profile: str,
    threads: int | None = None,
    progress: bool = True,
    record_path: str | os.PathLike[str] | None = None,
    force: bool = False,
    calibration_s: float | None = None,
) -> tuple[CellResult, str]:
    """`run_cell` (or `run_saved_cell`, given `record_path`) in a fresh process.

    Each cell then starts from the same memory: TensorFlow and Keras keep about
    3.5 MB per trained model after it is gone (measured: 30-trial quick
    Hyperband cells in one process peaked at 798, 875, 987 MiB; malloc_trim and
    not freezing the collector did not change it), so a long-lived process
    running many cells grows. The child inherits this process's stderr for its
    progress lines, and is killed if this process dies, so an interrupted
    session leaves no search running behind it.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if record_path is not None and not force:
        saved = saved_record(Path(record_path), tuner, seed, profile)
        if saved is not None:  # no need for a process (and a TensorFlow import) to reuse it
            return saved, "reused"
    path = None if record_path is None else str(record_path)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        record, how = pool.submit(
            _child_cell, tuner, seed, profile, threads, progress, path, force, calibration_s
        ).result()
    return CellResult.from_dict(record), how


def _child_cell(
    tuner: str,
    seed: int,
    profile: str,
    threads: int | None,
    progress: bool,
    record_path: str | None,
    force: bool,
    calibration_s: float | None,
) -> tuple[dict[str, Any], str]:
    from hpo.progress import trial_printer
    from hpo.tuners import planned_budget

    die_with_parent()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if threads:
        set_threads(threads)
    printer = None
    if progress:
        label = f"{tuner} seed={seed} {profile}"
        printer = trial_printer(label, planned_budget(tuner, get_profile(profile)).trials)
    if record_path is None:
        result = run_cell(tuner, seed, profile, progress=printer)
        result.calibration_s = calibration_s
        return result.to_dict(), "ran"
    result, how = run_saved_cell(
        tuner,
        seed,
        profile,
        record_path,
        progress=printer,
        force=force,
        wait=True,
        calibration_s=calibration_s,
    )
    return result.to_dict(), how


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no-op elsewhere).

    A session killed with SIGKILL cannot stop its helpers itself; without this
    they would go on searching, orphaned, beside the session that resumes.
    """
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def search_kwargs(splits: Splits, profile: Profile) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """What `search()` is given: training rows, validation rows, epochs, batch size."""
    return (splits.x_train, splits.y_train), {
        "validation_data": (splits.x_val, splits.y_val),
        "epochs": profile.epochs,  # Hyperband sets its own per-trial epochs
        "batch_size": BATCH_SIZE,
        "verbose": 0,
    }


def evaluate_search(
    search: kt.Tuner,
    tuner: str,
    seed: int,
    profile: Profile,
    splits: Splits,
    history: list[dict[str, Any]],
    wall: float,
    workers: int = 1,
    peak_rss_mb: float | None = None,
    resumes: int = 0,
) -> CellResult:
    """The record of a finished search: its best trial, and that model judged on the test rows."""
    completed = [h for h in history if h["val_accuracy"] is not None]
    if not completed:
        raise RuntimeError(f"{tuner} seed={seed}: every trial failed; {_first_error(search)}")
    best_trial = search.oracle.get_best_trials(1)[0]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        best_model = search.get_best_models(1)[0]
    test_loss, test_accuracy = best_model.evaluate(
        splits.x_test, splits.y_test, batch_size=BATCH_SIZE, verbose=0
    )
    return CellResult(
        tuner=tuner,
        seed=seed,
        profile=profile.name,
        best_val_accuracy=float(best_trial.score),
        best_val_loss=float(best_trial.metrics.get_last_value("val_loss")),
        test_accuracy=float(test_accuracy),
        test_loss=float(test_loss),
        wall_time_s=wall,
        peak_rss_mb=peak_rss_mb,
        workers=workers,
        resumes=resumes,
        trials_completed=len(completed),
        trials_failed=len(history) - len(completed),
        epochs_trained=sum(h["epochs"] for h in history),
        best_hyperparameters={
            k: v for k, v in best_trial.hyperparameters.values.items() if not k.startswith("tuner/")
        },
        history=history,
        n_train=len(splits.y_train),
        n_val=len(splits.y_val),
        n_test=len(splits.y_test),
        versions=versions(),
    )


@contextlib.contextmanager
def _frozen_gc() -> Iterator[None]:
    """Keep objects that exist now out of the collector's scans until the block ends.

    Keras Tuner runs a full gc.collect() before every trial, and so does Keras'
    clear_session(); with TensorFlow loaded each took ~0.4 s here. Freezing what
    exists now (modules, data) leaves only the search's own objects to scan.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _first_error(search: kt.Tuner) -> str:
    messages = [t.message for t in search.oracle.trials.values() if t.message]
    return f"first error: {messages[0].strip().splitlines()[-1]}" if messages else "no trial ran"
