"""Run one benchmark cell: one tuner, one seed, one profile, in its own directory."""

from __future__ import annotations

import contextlib
import gc
import os
import random
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

from hpo.data import Splits, check_seed, load_splits
from hpo.errors import HpoError
from hpo.memory import peak_rss_mb, reset_peak
from hpo.profiles import Profile, get_profile
from hpo.progress import ProgressFn
from hpo.results import CellResult
from hpo.space import build_model
from hpo.tuners import BATCH_SIZE, make_tuner


def versions() -> dict[str, str]:
    """Library versions and the Keras backend: what a result depends on."""
    import sklearn
    import tensorflow as tf

    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_tuner": kt.__version__,
        "keras_backend": keras.backend.backend(),
        "scikit_learn": sklearn.__version__,
        "numpy": np.__version__,
    }


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
) -> CellResult:
    """Search with `tuner` on the seed's split and judge its best model on the test rows.

    `workdir` holds Keras Tuner's project (trials, checkpoints); a fresh temporary
    directory is used and removed when it is None. The same arguments give the
    same record, apart from the times.
    """
    seed = check_seed(seed)
    prof = get_profile(profile)
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix=f"hpo-{tuner}-{seed}-") as tmp:
            return run_cell(tuner, seed, profile, tmp, progress, hypermodel)

    splits = load_splits(seed)
    seed_everything(seed)
    search = make_tuner(tuner, prof, seed, str(workdir), hypermodel=hypermodel, progress=progress)
    reset_peak()
    with _frozen_gc(), warnings.catch_warnings():
        # Hyperband's later rounds, and get_best_models(), load saved weights into a
        # model whose optimizer is not built yet; Keras warns and the optimizer starts
        # afresh. That is Keras Tuner's design, not a fault of this run.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        start = time.perf_counter()
        fit_args, fit_kwargs = search_kwargs(splits, prof)
        search.search(*fit_args, **fit_kwargs)
        wall = time.perf_counter() - start
        return evaluate_search(
            search, tuner, seed, prof, splits, search.history, wall, peak_rss_mb=peak_rss_mb()
        )


def run_cell_isolated(
    tuner: str, seed: int, profile: str, threads: int | None = None, progress: bool = True
) -> CellResult:
    """`run_cell` in a fresh process, so each cell starts from the same memory.

    TensorFlow and Keras keep about 3.5 MB per trained model after it is gone
    (measured: 30-trial quick Hyperband cells in one process peaked at 798, 875,
    987 MiB; malloc_trim and not freezing the collector did not change it), so a
    long-lived process running many cells grows. The child inherits this
    process's stderr for its progress lines.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        record = pool.submit(_child_cell, tuner, seed, profile, threads, progress).result()
    return CellResult.from_dict(record)


def _child_cell(
    tuner: str, seed: int, profile: str, threads: int | None, progress: bool
) -> dict[str, Any]:
    from hpo.progress import trial_printer
    from hpo.tuners import planned_budget

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if threads:
        set_threads(threads)
    printer = None
    if progress:
        label = f"{tuner} seed={seed} {profile}"
        printer = trial_printer(label, planned_budget(tuner, get_profile(profile)).trials)
    return run_cell(tuner, seed, profile, progress=printer).to_dict()


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
