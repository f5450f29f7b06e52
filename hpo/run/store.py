"""The record store: a cell's record on disk, reused when made by this code, resumed when cut.

A cell whose record lives at PATH works in PATH's stem + `.work/` (Keras
Tuner's project and hpo's trial log). The folder stays while the cell is
unfinished, so the same call resumes it, and goes once the record is written.
"""

from __future__ import annotations

import contextlib
import enum
import glob
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo.errors import HpoError
from hpo.experiment.results import CellResult, read_json, write_json
from hpo.run.cell import Cell, run_cell
from hpo.run.progress import ProgressFn
from hpo.run.provenance import versions


class Outcome(enum.StrEnum):
    """What running a saved cell did."""

    REUSED = "reused"  # a record made by this code and these libraries was there already
    RESUMED = "resumed"  # an interrupted search was continued from its saved state
    RAN = "ran"


@dataclass(frozen=True)
class RunOptions:
    force: bool = False  # discard record and saved state, run anew
    keep: bool = False  # keep Keras Tuner's project (checkpoints) after the record
    wait: bool = False  # wait for another process running the cell, instead of refusing
    calibration_s: float | None = None  # this session's machine-speed yardstick, stored


DEFAULT_OPTIONS = RunOptions()


def work_dir(record_path: Path) -> Path:
    return record_path.with_name(record_path.stem + ".work")


def run_saved_cell(
    cell: Cell,
    record_path: str | os.PathLike[str],
    options: RunOptions = DEFAULT_OPTIONS,
    progress: ProgressFn | None = None,
    search: Callable[[Path], CellResult] | None = None,
) -> tuple[CellResult, Outcome]:
    """Run `cell` with its record at `record_path`; reuse or resume what is there.

    Another process running the same cell is an error, or, with `options.wait`,
    is waited for. `search(workdir)` replaces the in-process `run_cell`
    (hpo.parallel.distributed passes its own).
    """
    record_path = Path(record_path)
    workdir = work_dir(record_path)
    with _cell_lock(record_path, workdir, options.wait):
        _remove_torn_writes(record_path)
        if options.force:
            _remove(workdir)
        else:
            saved = saved_record(record_path, cell)
            if saved is not None:
                if not options.keep:  # left by a kill between writing the record and removing it
                    _remove(workdir)
                return saved, Outcome.REUSED
        stamp = workdir / "hpo-cell.json"
        resumed = stamp.exists() and _same_code(read_json(stamp))
        if not resumed:
            _remove(workdir)  # none, or another code's project
            write_json(stamp, {"cell": cell.name, "versions": versions()})
        if search is None:
            result = run_cell(cell, workdir, progress=progress, resume=True)
        else:
            result = search(workdir)
        result.calibration_s = options.calibration_s
        write_json(record_path, result.to_dict())
        if not options.keep:
            _remove(workdir)
        return result, Outcome.RESUMED if result.resumes else Outcome.RAN


def discard(record_path: Path) -> None:
    """Remove a cell's record and saved state (what `force` does, ahead of time)."""
    record_path.unlink(missing_ok=True)
    shutil.rmtree(work_dir(record_path), ignore_errors=True)


def _remove_torn_writes(record_path: Path) -> None:
    """Remove temporary files of the record a killed process left (`write_bytes` names them);
    the cell's lock is held, so no other process is writing it."""
    for tmp in record_path.parent.glob(f".{glob.escape(record_path.name)}.*.tmp"):
        tmp.unlink(missing_ok=True)


def _same_code(stamp: Any) -> bool:
    return isinstance(stamp, dict) and stamp.get("versions") == versions()


def _remove(workdir: Path) -> None:
    """Remove a cell's work folder, but its lock (held by this process while it works)."""
    if not workdir.exists():
        return
    for child in workdir.iterdir():
        if child.name == LOCK_NAME:
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def saved_record(path: Path, cell: Cell) -> CellResult | None:
    """The record at `path` if it is this cell's, made by this code and libraries, else None.

    A record of another cell, or a file that is not a record, is an error.
    """
    if not path.exists():
        return None
    try:
        record = CellResult.from_dict(read_json(path), str(path))
    except HpoError as e:
        raise HpoError(f"{e} (--force replaces it)") from None
    if record.id != cell.id:
        raise HpoError(f"{path} holds the record of {record.id.label}, not of {cell.label}")
    return record if record.versions == versions() else None


LOCK_NAME = ".lock"


@contextlib.contextmanager
def _cell_lock(record_path: Path, workdir: Path, wait: bool) -> Iterator[None]:
    """One process at a time per cell: an advisory lock the OS drops if the process dies.

    The lock file lives in the cell's work folder, which goes with it when the
    record is written, so nothing is left beside the record. A process that
    waited on a lock whose folder went finds the record and reuses it.
    """
    import fcntl

    lock_path = workdir / LOCK_NAME
    try:
        workdir.mkdir(parents=True, exist_ok=True)
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
        try:
            yield
        finally:
            if not any(p.name != LOCK_NAME for p in workdir.iterdir()):
                shutil.rmtree(workdir, ignore_errors=True)  # only the lock was left
