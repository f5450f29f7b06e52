"""Cells in worker processes that start from known memory and die with the session.

With Keras' fit (the keras engine) TensorFlow and Keras keep about 3.5 MB per
trained model after it is gone (30-trial quick Hyperband cells in one process
peaked at 798, 875, 987 MiB), so each such cell gets a fresh process. The
graph engine builds the same models but traces its graphs once per process: a
process that ran one `paper` Hyperband cell grew by ~20 MB per further cell
(825, 848, 864 MB after three), and saves each further cell TensorFlow's import
and the tracing (~6 s). So a process runs up to `CELLS_PER_PROCESS` cells of
that engine, then a fresh one takes over.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo.experiment.results import CellResult
from hpo.run.cell import Cell
from hpo.run.store import DEFAULT_OPTIONS, Outcome, RunOptions, saved_record


@dataclass(frozen=True)
class Reporting:
    """What a cell's process shows of its progress."""

    trial_lines: bool = True  # a line per finished trial on the inherited stderr
    status_file: str | None = None  # kept at the epochs done, for a session's live display


def run_cell_isolated(
    cell: Cell,
    record_path: str | os.PathLike[str] | None = None,
    options: RunOptions = DEFAULT_OPTIONS,
    threads: int | None = None,
    reporting: Reporting = Reporting(),  # noqa: B008 (frozen, so one shared default is safe)
) -> tuple[CellResult, Outcome]:
    """`run_cell` (or `run_saved_cell`, given `record_path`) in a fresh spawned process.

    The child inherits this process's stderr for its progress lines, and is
    killed if this process dies, so an interrupted session leaves no search
    running behind it. A record that can be reused needs no process at all.
    """
    if record_path is not None and not options.force:
        saved = saved_record(Path(record_path), cell)
        if saved is not None:  # no need for a process (and a TensorFlow import) to reuse it
            return saved, Outcome.REUSED
    path = None if record_path is None else str(record_path)
    key = (cell.engine, threads)
    pool = _worker(*key)
    try:
        record, how = pool.submit(_child_cell, cell, path, options, threads, reporting).result()
    except BrokenProcessPool:
        _WORKERS.pop(key, None)  # the next cell gets a new process
        raise
    finally:
        if CELLS_PER_PROCESS.get(cell.engine, 1) == 1 and key in _WORKERS:
            _WORKERS.pop(key).shutdown(wait=True)  # wait: its memory is gone before the next
    return CellResult.from_dict(record), Outcome(how)


CELLS_PER_PROCESS = {"graph": 4, "keras": 1}
_WORKERS: dict[tuple[str, int | None], ProcessPoolExecutor] = {}


def _worker(engine: str, threads: int | None) -> ProcessPoolExecutor:
    """This engine's worker process (spawned: a clean interpreter, not a fork of pytest)."""
    import multiprocessing

    key = (engine, threads)
    if key not in _WORKERS:
        from hpo.run.runtime import die_with_parent

        _WORKERS[key] = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            # Safe from CPython gh-115634 (a pool whose workers retire at this limit while
            # tasks wait can hang): one cell is submitted at a time and waited for.
            max_tasks_per_child=CELLS_PER_PROCESS.get(engine, 1),
            # At the start of every process, not at its first cell: the pool starts a
            # replacement when a process has run its cells, and one started as the session
            # ends never gets a cell; without this it outlived the session, holding its
            # stdout open (seen: a caller reading that pipe waited forever).
            initializer=die_with_parent,
        )
    return _WORKERS[key]


def shutdown_workers() -> None:
    """End the worker processes (they also end when this process does)."""
    while _WORKERS:
        _WORKERS.popitem()[1].shutdown(wait=True)


_process_ready = False


def _child_cell(
    cell: Cell,
    record_path: str | None,
    options: RunOptions,
    threads: int | None,
    reporting: Reporting,
) -> tuple[dict[str, Any], str]:
    from hpo.run.runtime import (
        die_with_parent,
        import_tensorflow_quietly,
        set_threads,
        skip_teardown_at_exit,
    )

    global _process_ready
    if not _process_ready:  # once per worker process
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        skip_teardown_at_exit()  # the parent waits for this process to end, so end it quickly
        import_tensorflow_quietly()
        die_with_parent()
        if threads:
            set_threads(threads)
        _process_ready = True
    from hpo.run.cell import run_cell
    from hpo.run.progress import combine, status_writer, trial_printer
    from hpo.run.store import run_saved_cell

    budget = cell.budget
    printer = combine(
        trial_printer(cell.label, budget) if reporting.trial_lines else None,
        status_writer(reporting.status_file, cell.label, budget.epochs)
        if reporting.status_file
        else None,
    )
    try:
        if record_path is None:
            result = run_cell(cell, progress=printer)
            result.calibration_s = options.calibration_s
            return result.to_dict(), Outcome.RAN.value
        saved_options = dataclasses.replace(options, wait=True)
        result, how = run_saved_cell(cell, record_path, saved_options, progress=printer)
        return result.to_dict(), how.value
    finally:
        if reporting.status_file:  # a finished cell is no longer running
            Path(reporting.status_file).unlink(missing_ok=True)
