"""A kill just before any write of a search's saved state, and the uninterrupted run to compare.

A search is resumable if, killed between any two of its state files, it resumes
to the record an uninterrupted run makes. `counting_writes` counts every such
write (Keras Tuner's oracle.json and trial.json, hpo's trial log) and can raise
`Killed` just before write number n, in the same process: the same moments a
SIGKILL could hit, without a subprocess per example.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

from hpo.experiment.results import CellResult
from hpo.run.cell import Cell, run_cell


class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, so Keras Tuner does not catch it as a failed trial."""


def _writes() -> dict[str, tuple[type, str]]:
    """Every write a search makes to its saved state, as (class, method)."""
    import keras_tuner as kt

    from hpo.run.search import TrialRecorder

    return {
        "oracle.json": (kt.Oracle, "save"),
        "trial.json": (kt.Oracle, "_save_trial"),
        "trial log": (TrialRecorder, "_save_log"),
    }


WRITE_KINDS = ("oracle.json", "trial.json", "trial log")


@contextlib.contextmanager
def counting_writes(kill_at: tuple[str, int] | None = None) -> Iterator[dict[str, int]]:
    """Count the state writes of each kind; with `kill_at=(kind, n)`, raise `Killed` just
    before write n of that kind. Yields the counts (kind -> writes so far)."""
    counts = dict.fromkeys(WRITE_KINDS, 0)
    with contextlib.ExitStack() as stack:
        for kind, (cls, name) in _writes().items():
            original = getattr(cls, name)

            def wrapper(
                self: Any, *args: Any, _kind: str = kind, _original: Any = original, **kwargs: Any
            ) -> Any:
                counts[_kind] += 1
                if kill_at == (_kind, counts[_kind]):
                    raise Killed(f"before {_kind} write {counts[_kind]}")
                return _original(self, *args, **kwargs)

            stack.enter_context(mock.patch.object(cls, name, wrapper))
        yield counts


def reference_run(cell: Cell, workdir: str | os.PathLike[str]) -> tuple[CellResult, dict[str, int]]:
    """The cell's uninterrupted record and how many writes of each kind its search made."""
    with counting_writes() as counts:
        record = run_cell(cell, workdir, resume=True)
    return record, dict(counts)


def killed_then_resumed(
    cell: Cell, workdir: str | os.PathLike[str], kill_at: tuple[str, int]
) -> CellResult:
    """Run `cell` until just before the `kill_at` write, then run it again to the end."""
    try:
        with counting_writes(kill_at=kill_at):
            run_cell(cell, workdir, resume=True)
    except Killed:
        pass
    else:
        raise AssertionError(
            f"{cell.label}: the search ended before {kill_at[0]} write {kill_at[1]}"
        )
    return run_cell(cell, workdir, resume=True)
