"""A cell in a fresh process: each cell starts from the same memory.

TensorFlow and Keras keep about 3.5 MB per trained model after it is gone
(measured: 30-trial quick Hyperband cells in one process peaked at 798, 875,
987 MiB; malloc_trim and not freezing the collector did not change it), so a
long-lived process running many cells grows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo.profiles import Cell
from hpo.results import CellResult
from hpo.store import DEFAULT_OPTIONS, Outcome, RunOptions, saved_record


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
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if record_path is not None and not options.force:
        saved = saved_record(Path(record_path), cell)
        if saved is not None:  # no need for a process (and a TensorFlow import) to reuse it
            return saved, Outcome.REUSED
    path = None if record_path is None else str(record_path)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        record, how = pool.submit(_child_cell, cell, path, options, threads, reporting).result()
    return CellResult.from_dict(record), Outcome(how)


def _child_cell(
    cell: Cell,
    record_path: str | None,
    options: RunOptions,
    threads: int | None,
    reporting: Reporting,
) -> tuple[dict[str, Any], str]:
    from hpo.runtime import (
        die_with_parent,
        import_tensorflow_quietly,
        set_threads,
        skip_teardown_at_exit,
    )

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    skip_teardown_at_exit()  # the parent waits for this process to end, so end it quickly
    import_tensorflow_quietly()
    from hpo.cell import run_cell
    from hpo.progress import combine, status_writer, trial_printer
    from hpo.store import run_saved_cell
    from hpo.tuners import planned_budget

    die_with_parent()
    if threads:
        set_threads(threads)
    from hpo.profiles import get_profile

    budget = planned_budget(cell.tuner, get_profile(cell.profile))
    printer = combine(
        trial_printer(cell.label, budget.trials) if reporting.trial_lines else None,
        status_writer(reporting.status_file, cell.label, budget.epochs)
        if reporting.status_file
        else None,
    )
    try:
        if record_path is None:
            result = run_cell(cell, progress=printer)
            result.calibration_s = options.calibration_s
            return result.to_dict(), Outcome.RAN.value
        saved_options = RunOptions(options.force, options.keep, True, options.calibration_s)
        result, how = run_saved_cell(cell, record_path, saved_options, progress=printer)
        return result.to_dict(), how.value
    finally:
        if reporting.status_file:  # a finished cell is no longer running
            Path(reporting.status_file).unlink(missing_ok=True)
