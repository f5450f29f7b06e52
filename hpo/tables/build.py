"""Building a table: plan the rows, train them here, in worker processes or on Dask, save.

`build_table(spec, out)` trains every row of `spec` (every configuration of its
grid under every training seed, for its epochs) and writes the table to `out`
(`hpo.tables.table` describes the file). It is:

- resumable: each finished chunk of rows is saved at once, atomically, into
  the sidecar folder `OUT.parts/` (one small .npz per chunk, beside an
  `identity.json` naming the table it belongs to). Restarted with the same
  arguments after a kill, a build trains only the rows not saved, and writes
  the same table (byte for byte, apart from the timing arrays and meta's
  `build` section) as a build that was never interrupted. Saved rows of
  another table -- other task, profile, epochs, seeds, split, grid, code or
  library versions -- are refused in one line, or discarded with `force`.
  The table is written atomically (write, then rename), then the sidecar removed.
- deterministic: a row's numbers depend on its configuration, seed, the split
  and the code only (`hpo.tables.rows` seeds every row afresh), never on the
  order rows run in, the chunks, or the process (tests/test_tables.py compares
  builds with one and two workers).
- parallel: `workers` > 1 spawns that many worker processes (one TensorFlow
  thread each, `hpo.tables.worker`); `cluster` sends each chunk to a Dask
  cluster as a task (`local:N` starts one here). workers=1 trains in this process.
- incremental: `limit` trains only the first `limit` rows of the row order
  (`hpo.tables.plan`); the table then says it is partial (`Table.partial`,
  meta `partial`) and a later build with a larger limit, or none, trains only
  the rows it lacks (the table's own rows are reused as saved ones).

Cost, measured once (2 cores shared with other work, TensorFlow 2.21, 2 workers of one
thread): Breast Cancer at `quick` (15 epochs), the default grid, one seed -- 1,053
rows, 15,795 epochs of 12 steps -- took 4 min 57 s (`python -c` to exit), about
0.56 core-seconds a row: a training epoch of 9, 17 and 23 ms (1, 2, 3 layers),
42 ms to seed and build a model, the test pass and the rest ~14 ms an epoch; a
worker stayed under 830 MB; the table is 270 kB. Extrapolated (linear in epochs
and, for training, in steps): Breast Cancer at `paper`, 3 seeds (3,159 rows x
50 epochs, 1.9 M steps) ~45-50 min on these 2 cores; MNIST-1D at `paper` (100
steps an epoch, 15.8 M steps) ~2-4 h; either table ~3 MB.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from hpo.errors import HpoError
from hpo.experiment.results import write_bytes
from hpo.experiment.space import param_count
from hpo.experiment.tasks import TASKS, get_task
from hpo.tables.plan import (
    CHUNK_ROWS,
    FAILED_TO_TRAIN,
    ChunkDone,
    RowResult,
    TableSpec,
    check_curves,
    chunks,
    job,
)
from hpo.tables.table import (
    CURVES,
    FORMAT,
    FORMAT_VERSION,
    METRICS,
    Table,
    npz_bytes,
    read_npz,
    write_table,
)

PARTS_SUFFIX = ".parts"
IDENTITY_FILE = "identity.json"


@dataclass(frozen=True)
class BuildResult:
    """What a build did."""

    path: Path
    hash: str
    rows: int  # rows the table holds (trained)
    rows_total: int  # rows of its grid x seeds
    trained_now: int
    reused: int  # rows saved before (sidecar, or the table already at `out`)
    wall_time_s: float
    already_built: bool = False

    @property
    def partial(self) -> bool:
        return self.rows < self.rows_total


def parts_dir(out: str | os.PathLike[str]) -> Path:
    """The sidecar folder of finished rows beside the table `out`."""
    out = Path(out)
    return out.with_name(out.name + PARTS_SUFFIX)


def build_table(
    spec: TableSpec,
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    cluster: str | None = None,
    force: bool = False,
    quiet: bool = False,
    limit: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    stream: TextIO | None = None,
    on_chunk_saved: Callable[[int], None] | None = None,
) -> BuildResult:
    """Train the rows of `spec` not yet saved and write the table to `out` (see the module).

    `on_chunk_saved(n)` is called after the n-th chunk of this build is saved
    (tests use it to interrupt a build). Progress goes to `stream` (stderr)
    unless `quiet`.
    """
    started = time.monotonic()
    out = Path(out)
    task = get_task(spec.task)
    if workers < 1:
        raise HpoError(f"--workers must be at least 1, got {workers}")
    if limit is not None and limit < 1:
        raise HpoError(f"--limit must be at least 1, got {limit}")
    threads = prepare_this_process(in_process=cluster is None and workers == 1)
    from hpo.run.provenance import versions

    ours = versions()
    identity = {"format_version": FORMAT_VERSION, **spec.identity(), "versions": ours}
    parts = parts_dir(out)
    if force:
        shutil.rmtree(parts, ignore_errors=True)
    done: dict[int, RowResult] = {}
    existing = None if force else _existing_table(out, identity)
    if existing is not None:
        done.update(_rows_of(existing))
    in_table = set(done)
    done.update(_saved_rows(parts, identity, spec))
    reused = len(done)
    planned = range(spec.n_rows if limit is None else min(limit, spec.n_rows))
    pending = [r for r in planned if r not in done]
    label = f"tabulate {spec.task} {spec.profile}"
    say = _printer(None if quiet else (stream or sys.stderr))
    if not pending and existing is not None and set(done) == in_table:
        say(f"{label}: {out} already holds these rows (--force builds it anew)")
        return BuildResult(
            out, existing.hash, len(done), spec.n_rows, 0, reused, time.monotonic() - started, True
        )
    _write_identity(parts, identity)
    if cluster is None and workers > 1:  # a few chunks per worker at least: none sits idle
        chunk_rows = max(1, min(chunk_rows, math.ceil(len(pending) / (4 * workers))))
    plan = chunks(spec, pending, chunk_rows)
    where = (
        f"the Dask cluster {cluster}"
        if cluster is not None
        else "this process"
        if workers == 1
        else f"{workers} worker processes"
    )
    saved_before = len([r for r in planned if r in done])
    say(
        f"{label}: {_n(len(spec.grid), 'config')} x {_n(len(spec.seeds), 'seed')} x"
        f" {_n(spec.epochs, 'epoch')}; {len(pending)} of {_n(len(planned), 'row')} to train"
        f" ({_n(len(pending) * spec.epochs, 'epoch')}; {saved_before} saved before),"
        f" {_n(len(plan), 'chunk')} on {where}; the time left follows the first chunk"
    )
    progress = _Progress(label, len(planned), saved_before, say)
    facts: list[dict[str, Any]] = []
    for n, finished in enumerate(_run(spec, plan, workers, cluster), start=1):
        _check_facts(finished.facts, ours)
        facts.append(finished.facts)
        _save_part(parts, finished.rows, spec.epochs)
        for row in finished.rows:
            done[row.row] = row
        progress.add(len(finished.rows))
        if on_chunk_saved is not None:
            on_chunk_saved(n)
    arrays = _assemble(spec, done)
    meta = _meta(spec, task, ours, arrays, done)
    meta["build"] = {
        "wall_time_s": round(time.monotonic() - started, 3),
        "cpu_count": _cores(),
        "workers": None if cluster is not None else workers,
        "cluster": cluster,
        "tf_threads": sorted({f["tf_threads"] for f in facts}) if facts else [threads],
        "max_worker_rss_mb": max((f["rss_mb"] or 0 for f in facts), default=None),
        "rows_trained": len(done) - reused,
        "rows_reused": reused,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_table(out, arrays, meta)
    shutil.rmtree(parts, ignore_errors=True)
    rows = int(arrays["trained"].sum())
    say(f"{label}: wrote {out} ({rows}/{spec.n_rows} rows, hash {meta['hash'][:16]})")
    return BuildResult(
        out, meta["hash"], rows, spec.n_rows, len(done) - reused, reused, time.monotonic() - started
    )


def prepare_this_process(in_process: bool) -> int:
    """Import TensorFlow quietly; training here: one thread if TensorFlow has not run yet.

    Rows trained in this process get one thread, as in a worker process (on some
    CPUs float32 sums round by thread count). `hpo tabulate` calls this before a
    task's space is discovered by building its model, which fixes the threads.
    Returns the intra-op threads this process's TensorFlow uses (0: its default).
    """
    from hpo.run.runtime import import_tensorflow_quietly, set_threads

    import_tensorflow_quietly()
    import tensorflow as tf

    if in_process:  # TensorFlow already ran here (a test, a notebook): its threads as they are
        with contextlib.suppress(HpoError):
            set_threads(1)
    return int(tf.config.threading.get_intra_op_parallelism_threads())


def _existing_table(out: Path, identity: dict[str, Any]) -> Table | None:
    """The table already at `out`, if it is this one (its rows are reused); HpoError if another."""
    if not out.exists():
        return None
    try:
        table = Table.load(out)
    except HpoError as e:
        raise HpoError(f"{e}; --force replaces it") from None
    theirs = {"format_version": table.meta["format_version"], **_identity_of(table.meta)}
    diff = _differences(identity, theirs)
    if diff:
        raise HpoError(f"{out} holds another table (its {diff} differ); --force replaces it")
    return table


def _identity_of(meta: dict[str, Any]) -> dict[str, Any]:
    keys = ("task", "profile", "epochs", "seeds", "split_seed", "grid", "versions")
    return {k: meta.get(k) for k in keys}


def _differences(ours: dict[str, Any], theirs: Any) -> str:
    if not isinstance(theirs, dict):
        return "everything"
    keys = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    if "versions" in keys:  # name the code or the library, not just "versions"
        mine, other = ours.get("versions") or {}, theirs.get("versions") or {}
        changed = sorted(k for k in mine.keys() | other.keys() if mine.get(k) != other.get(k))
        keys.remove("versions")
        keys += ["code" if k == "hpo_source" else k for k in changed]
    return ", ".join(keys)


def _rows_of(table: Table) -> Iterator[tuple[int, RowResult]]:
    """The trained rows of a table, as saved rows."""
    a = table.arrays
    n_seeds = len(table.seeds)
    errors = table.row_errors
    for ci, si in zip(*np.nonzero(a["trained"]), strict=True):
        r = int(ci) * n_seeds + int(si)
        failed = int(a["failed_at_epoch"][ci, si])
        yield (
            r,
            RowResult(
                row=r,
                params=0 if failed == FAILED_TO_TRAIN else int(a["params"][ci]),
                failed_at_epoch=failed,
                build_time_s=float(a["build_time_s"][ci, si]),
                curves={name: np.array(a[name][ci, si]) for name in CURVES},
                error=errors.get(r),
            ),
        )


def _write_identity(parts: Path, identity: dict[str, Any]) -> None:
    from hpo.experiment.results import write_json

    path = parts / IDENTITY_FILE
    if not path.exists():
        write_json(path, identity)


def _saved_rows(parts: Path, identity: dict[str, Any], spec: TableSpec) -> dict[int, RowResult]:
    """Rows saved in the sidecar by an earlier build of this table; HpoError if of another."""
    if not parts.exists():
        return {}
    from hpo.experiment.results import read_json

    discard = "--force discards them"
    id_path = parts / IDENTITY_FILE
    if not id_path.exists():
        if any(parts.iterdir()):
            raise HpoError(f"{parts}: saved rows without {IDENTITY_FILE}; {discard}")
        return {}
    try:
        theirs = read_json(id_path)
    except HpoError as e:
        raise HpoError(f"{e}; {discard}") from None
    diff = _differences(identity, theirs)
    if diff:
        raise HpoError(
            f"{parts}: saved rows of another table (their {diff} differ); {discard}"
            " (or build that table with its own arguments)"
        )
    rows: dict[int, RowResult] = {}
    for path in sorted(parts.glob("rows-*.npz")):
        for row in _read_part(path, spec, discard):
            rows[row.row] = row
    return rows


def _save_part(parts: Path, rows: list[RowResult], epochs: int) -> None:
    """Save a finished chunk's rows atomically: a kill leaves the file whole or absent."""
    for row in rows:
        check_curves(row, epochs)
    ids = np.array([r.row for r in rows], dtype=np.int64)
    arrays = {
        "rows": ids,
        "params": np.array([r.params for r in rows], dtype=np.int64),
        "failed_at_epoch": np.array([r.failed_at_epoch for r in rows], dtype=np.int64),
        "build_time_s": np.array([r.build_time_s for r in rows], dtype=np.float64),
        **{name: np.stack([r.curves[name] for r in rows]) for name in CURVES},
        "errors": np.array([r.error or "" for r in rows], dtype=str),
    }
    tag = hashlib.sha1(ids.tobytes()).hexdigest()[:12]
    write_bytes(parts / f"rows-{int(ids[0]):07d}-{tag}.npz", npz_bytes(arrays), sync=True)


def _read_part(path: Path, spec: TableSpec, discard: str) -> list[RowResult]:
    a = read_npz(path, f"saved rows ({discard})")
    bad = f"{path}: not saved rows of this table; {discard}"
    needed = ("rows", "params", "failed_at_epoch", "build_time_s", *CURVES)
    if any(k not in a for k in needed):
        raise HpoError(bad)
    ids = a["rows"]
    k = len(ids)
    if (
        ids.ndim != 1
        or any(a[name].shape != (k, spec.epochs) for name in CURVES)
        or any(a[name].shape != (k,) for name in ("params", "failed_at_epoch", "build_time_s"))
        or (k and not (ids.min() >= 0 and ids.max() < spec.n_rows))
    ):
        raise HpoError(bad)
    errors = [str(e) for e in a["errors"]] if "errors" in a else [""] * k
    return [
        RowResult(
            row=int(ids[i]),
            params=int(a["params"][i]),
            failed_at_epoch=int(a["failed_at_epoch"][i]),
            build_time_s=float(a["build_time_s"][i]),
            curves={name: a[name][i].astype(np.float32) for name in CURVES},
            error=errors[i] or None,
        )
        for i in range(k)
    ]


def _run(
    spec: TableSpec, plan: list[list[int]], workers: int, cluster: str | None
) -> Iterator[ChunkDone]:
    """Each chunk of `plan`, trained, as it finishes (in any order)."""
    if not plan:
        return
    if cluster is not None:
        yield from _run_on_cluster(spec, plan, cluster)
    elif workers == 1:
        from hpo.tables.rows import train_chunk

        for rows in plan:
            yield train_chunk(job(spec, rows))
    else:
        yield from _run_in_pool(spec, plan, workers)


def _run_in_pool(spec: TableSpec, plan: list[list[int]], workers: int) -> Iterator[ChunkDone]:
    """The plan on `workers` processes, in rounds of `CHUNKS_PER_PROCESS` chunks a process:
    each round gets fresh processes (see hpo.tables.worker for why not max_tasks_per_child)."""
    from hpo.tables.worker import CHUNKS_PER_PROCESS  # read at the call: tests change it

    size = workers * CHUNKS_PER_PROCESS
    for start in range(0, len(plan), size):
        yield from _run_round(spec, plan[start : start + size], workers)


def _run_round(spec: TableSpec, plan: list[list[int]], workers: int) -> Iterator[ChunkDone]:
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    from hpo.tables.worker import pool, run_chunk

    executor = pool(min(workers, len(plan)))
    try:
        futures = [executor.submit(run_chunk, job(spec, rows)) for rows in plan]
        for future in as_completed(futures):
            try:
                yield future.result()
            except BrokenProcessPool:
                raise HpoError(
                    "a worker process died (out of memory?); the same command resumes from the"
                    " rows saved so far"
                ) from None
    except BaseException:
        # Interrupted, or a chunk failed: stop the workers now, not after their chunks.
        for process in list(getattr(executor, "_processes", {}).values()):
            process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


def _run_on_cluster(spec: TableSpec, plan: list[list[int]], address: str) -> Iterator[ChunkDone]:
    from hpo.parallel.cluster import Cluster, parse_cluster
    from hpo.tables.worker import run_chunk_on_dask_worker

    cluster = Cluster(parse_cluster(address))
    futures: list[Any] = []
    try:
        from distributed import KilledWorker, as_completed

        session = os.urandom(4).hex()
        futures = [
            cluster.client.submit(
                run_chunk_on_dask_worker,
                job(spec, rows),
                key=f"hpo-table-{session}-{i}",
                pure=False,
            )
            for i, rows in enumerate(plan)
        ]
        for future in as_completed(futures, loop=cluster.client.loop):
            try:
                yield future.result()
            except KilledWorker:
                raise HpoError(
                    "a chunk's Dask worker died on every try (Dask's allowed-failures); the same"
                    " command resumes from the rows saved so far"
                ) from None
    finally:
        for future in futures:
            future.cancel()
        cluster.close()


def _check_facts(facts: dict[str, Any], ours: dict[str, str]) -> None:
    """Rows trained by other code or libraries than this build's are not mixed in."""
    diff = _differences({"versions": ours}, {"versions": facts.get("versions")})
    if diff:
        raise HpoError(
            f"a worker process runs other {diff} than this build (hpo's code changed while it"
            " ran?); the same command resumes from the rows saved so far"
        )


def _assemble(spec: TableSpec, done: dict[int, RowResult]) -> dict[str, np.ndarray]:
    """The table's arrays from its trained rows (untrained rows: NaN, trained False)."""
    task = get_task(spec.task)
    n_configs, n_seeds, epochs = len(spec.grid), len(spec.seeds), spec.epochs
    curves = {name: np.full((n_configs, n_seeds, epochs), np.nan, np.float32) for name in CURVES}
    failed = np.full((n_configs, n_seeds), -1, np.int64)
    trained = np.zeros((n_configs, n_seeds), bool)
    build_time = np.full((n_configs, n_seeds), np.nan, np.float32)
    if task.searches_mlp:  # hpo's MLP: its size is known from its values (and checked)
        params = np.array([param_count(c, task) for c in spec.configs], dtype=np.int64)
    else:  # a task's own model: as its rows built it (0 where none was built)
        params = np.zeros(n_configs, dtype=np.int64)
        for r, row in done.items():
            params[spec.row(r)[0]] = max(params[spec.row(r)[0]], row.params)
    for r, row in done.items():
        ci, si = spec.row(r)
        if row.failed_at_epoch != FAILED_TO_TRAIN and row.params != params[ci]:
            raise HpoError(
                f"configuration {ci} trained a model of {row.params} parameters; its other"
                f" rows or the space say {params[ci]}"
            )
        for name in CURVES:
            curves[name][ci, si] = row.curves[name]
        failed[ci, si] = row.failed_at_epoch
        trained[ci, si] = True
        build_time[ci, si] = row.build_time_s
    return {
        **curves,
        "params": params,
        "seeds": np.array(spec.seeds, dtype=np.int64),
        "failed_at_epoch": failed,
        "trained": trained,
        "build_time_s": build_time,
    }


def _meta(
    spec: TableSpec,
    task: Any,
    ours: dict[str, str],
    arrays: dict[str, np.ndarray],
    done: dict[int, RowResult],
) -> dict[str, Any]:
    from hpo.tables.rows import splits_of

    sizes = splits_of(spec.task, spec.split_seed).sizes
    rows = int(arrays["trained"].sum())
    mlp = task.searches_mlp
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **spec.identity(),
        "n_configs": len(spec.grid),
        "configs_order": "num_layers, units_0.., activation, dropout, learning_rate; each"
        " ascending (activations: relu, tanh, sigmoid); rows: configuration-major"
        if mlp
        else "depth first over the space's hyperparameters in declaration order, each at"
        " its grid's values in the order listed, a conditional one only where active;"
        " rows: configuration-major",
        "objective": task.objective,
        "minimise": task.minimise,
        "score": ("r2" if task.regression else "accuracy") if mlp else task.scorer.kind,
        "metrics": list(METRICS),
        "builtin_task": spec.task in TASKS,
        "split_sizes": sizes,
        "batch_size": task.batch_size,
        "steps_per_epoch": math.ceil(sizes["train"] / task.batch_size),
        "trainer": "graph" if mlp else "keras",
        "training": "one model per row, trained alone by the graph engine (GraphFit) exactly as"
        " a live trial seeded keras.utils.set_random_seed(seed) trains it"
        if mlp
        else "one model per row, built by the task's own build and trained by Keras' fit (or"
        " its HyperModel's own fit) exactly as a live trial seeded"
        " keras.utils.set_random_seed(seed) trains it",
        "test_pass": "eager forward pass after each epoch: the head's Keras loss and metric"
        " (R² for regression); model.evaluate's loss may differ in the last bits"
        if mlp
        else "eager forward pass after each epoch: the model's compiled loss"
        " (model.compute_loss) and the task's score; model.evaluate's and predict's may"
        " differ in the last bits",
        "row_errors": {str(r): row.error for r, row in sorted(done.items()) if row.error},
        "hpo_source": ours["hpo_source"],
        "versions": ours,
        "rows_trained": rows,
        "partial": rows < spec.n_rows,
    }


class _Progress:
    """A line per finished chunk: rows done of planned, time so far, ETA at this build's pace."""

    def __init__(self, label: str, total: int, before: int, say: Callable[[str], None]) -> None:
        self.label, self.total, self.done, self.before = label, total, before, before
        self.say = say
        self.started = time.monotonic()

    def add(self, rows: int) -> None:
        from hpo.run.progress import _clock

        self.done += rows
        elapsed = time.monotonic() - self.started
        worked, left = self.done - self.before, self.total - self.done
        eta = f"  ETA {_clock(elapsed * left / worked)}" if worked > 0 and left > 0 else ""
        self.say(f"{self.label}: {self.done}/{self.total} rows  {_clock(elapsed)}{eta}")


def _printer(stream: TextIO | None) -> Callable[[str], None]:
    def say(line: str) -> None:
        if stream is not None:
            print(line, file=stream, flush=True)

    return say


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_out(task: str, profile: str) -> Path:
    """tables/TASK-PROFILE.npz (a task named MODULE:ATTR with its colon as a dot)."""
    return Path("tables") / f"{task.replace(':', '.')}-{profile}.npz"


def describe(result: BuildResult) -> str:
    """One line saying what a build wrote."""
    what = "kept" if result.already_built else "wrote"
    partial = " (partial)" if result.partial else ""
    return (
        f"{what} {result.path}: {result.rows}/{result.rows_total} rows{partial},"
        f" {result.trained_now} trained now, {result.reused} reused, hash {result.hash[:16]},"
        f" {result.wall_time_s:.1f} s"
    )
