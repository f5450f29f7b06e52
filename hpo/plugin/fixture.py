"""`CellFixture`: one per test, it runs a cell where the session runs cells and records it.

As pytest-benchmark's `BenchmarkFixture` runs and records one benchmark: the test only
calls it (`hpo_cell(tuner, seed, task)`) and checks what it returns. Running (the
session's one runner), timing (pytest-benchmark, one round), the benchmark JSON's
`extra_info`, the session's records, tracking and the progress line are all here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from hpo.errors import CellStopped
from hpo.experiment.results import CellResult

if TYPE_CHECKING:
    from hpo.plugin.session import HpoSession
    from hpo.run.cell import Cell


class CellFixture:
    """Runs and records the cells of one test (`hpo_cell`)."""

    def __init__(self, session: HpoSession, benchmark: Any, node: pytest.Item) -> None:
        self._session = session
        self._benchmark = benchmark
        self._node = node

    def __call__(self, tuner: str, seed: int, task: str) -> CellResult:
        """The record of `tuner` on `seed` of `task` at the session's profile and engine:
        reused, resumed or run; the test fails with the reason if the cell stopped."""
        from hpo.run.cell import Cell
        from hpo.run.record import describe
        from hpo.run.store import Outcome

        hpo = self._session
        cell = Cell.of(tuner, seed, hpo.selection.profile, task, hpo.engine)
        bench = self._benchmark
        bench.group = f"search ({cell.profile.name})"

        def run() -> tuple[CellResult | None, Any]:
            try:
                return hpo.run_cell(cell)
            except CellStopped as e:  # recorded below: the report says why a seed is missing
                return None, str(e)

        # A reused record keeps the calibration of the session that ran it.
        result, how = bench.pedantic(run, rounds=1, iterations=1)
        if result is None:
            bench.extra_info["stopped"] = self._stopped(cell, how)
            hpo.stopped.append(bench.extra_info["stopped"])
            pytest.fail(how, pytrace=False)
        bench.extra_info.update(
            how=how.value,  # ran, resumed or reused (then pytest-benchmark timed the reuse)
            tuner=cell.tuner,
            seed=cell.seed,
            profile=cell.profile.name,
            task=cell.task.name,
            best_val_accuracy=result.best_val_accuracy,
            test_accuracy=result.test_accuracy,
            test_r2=result.test_r2,
            test_loss=result.test_loss,
            epochs_trained=result.epochs_trained,
            trials_completed=result.trials_completed,
            peak_rss_mb=result.peak_rss_mb,
            cell=result.to_dict(),
        )
        hpo.records.append(result)
        if how != Outcome.REUSED:  # a reused record was logged by the session that ran it
            hpo.track(result)
        said = "ran" if how == Outcome.RAN else how.value
        self._node.user_properties.append(("hpo_cell_epochs", result.epochs_trained))
        self._node.user_properties.append(("hpo_cell_how", how.value))
        self._node.user_properties.append(("hpo_cell_line", describe(result, said)))
        return result

    @staticmethod
    def _stopped(cell: Cell, reason: str) -> dict[str, Any]:
        return {
            "tuner": cell.tuner,
            "seed": cell.seed,
            "profile": cell.profile.name,
            "task": cell.task.name,
            "reason": reason,
        }
