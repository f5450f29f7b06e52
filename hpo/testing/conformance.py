"""The checks every tuner and task passes, as test classes your own test suite subclasses.

Optuna ships its sampler checks the same way (`optuna.testing`): a tuner is held
to what hpo promises of every built-in one, on a smoke-sized search:

- the same seed gives the same record (apart from times and memory);
- the search trains exactly the budget it plans (trials and epochs);
- a search killed mid-way (just before a state write) resumes to the
  uninterrupted record.

    class TestMyTuner(TunerConformance):
        tuner = "mytuners:make_oracle"      # MODULE:ATTR, an installed or built-in name

A task is held to the same on Hyperband (multi-fidelity: its promoted trials
reload weights into the task's head):

    class TestMyTask(TaskConformance):
        task = "wine"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hpo.experiment.profiles import DEFAULT_TASK
from hpo.experiment.results import CellResult
from hpo.run.cell import Cell, run_cell
from hpo.testing.kills import killed_then_resumed, reference_run

Reference = tuple[CellResult, dict[str, int]]


class _Conformance:
    """The three checks, on the cell that `conformance_cell` gives."""

    seed = 4
    profile = "smoke"

    @pytest.fixture(scope="class")
    def conformance_cell(self) -> Cell:  # pragma: no cover - each subclass gives one
        raise NotImplementedError

    @pytest.fixture(scope="class")
    def uninterrupted(self, conformance_cell: Cell, tmp_path_factory: Any) -> Reference:
        """The cell's uninterrupted record, and how many state writes its search made."""
        return reference_run(conformance_cell, tmp_path_factory.mktemp("uninterrupted"))

    def test_the_same_seed_gives_the_same_record(
        self, conformance_cell: Cell, uninterrupted: Reference, tmp_path: Path
    ) -> None:
        again = run_cell(conformance_cell, tmp_path)
        assert again.without_times() == uninterrupted[0].without_times()

    def test_the_search_trains_exactly_its_planned_budget(
        self, conformance_cell: Cell, uninterrupted: Reference
    ) -> None:
        record, budget = uninterrupted[0], conformance_cell.budget
        assert record.trials_failed == 0, [h.error for h in record.history]
        assert (record.trials_completed, record.epochs_trained) == (budget.trials, budget.epochs)
        assert record.id == conformance_cell.id

    def test_a_search_killed_mid_way_resumes_to_the_uninterrupted_record(
        self, conformance_cell: Cell, uninterrupted: Reference, tmp_path: Path
    ) -> None:
        expected, counts = uninterrupted
        kill_at = ("trial.json", max(1, counts["trial.json"] // 2))  # mid-search, between files
        resumed = killed_then_resumed(conformance_cell, tmp_path, kill_at)
        assert resumed.without_times() == expected.without_times()


class TunerConformance(_Conformance):
    """Subclass with `tuner = "NAME"` (or override the `conformance_tuner` fixture)."""

    tuner: str = ""
    task = DEFAULT_TASK

    @pytest.fixture(scope="class")
    def conformance_tuner(self) -> str:
        if not self.tuner:
            raise TypeError(f"{type(self).__name__}: set `tuner = 'NAME'` on the class")
        return self.tuner

    @pytest.fixture(scope="class")
    def conformance_cell(self, conformance_tuner: str) -> Cell:
        return Cell.of(conformance_tuner, self.seed, self.profile, self.task)

    @pytest.mark.parametrize("workers", [2, 4])
    def test_k_workers_replay_the_same_record_and_the_planned_budget(
        self, conformance_cell: Cell, workers: int, tmp_path: Path
    ) -> None:
        """Replayed on a table of made-up curves by k simulated asynchronous workers (the
        oracle sees the others' trials running): the same seed gives the same record,
        and the search trains its planned budget, every proposal a point of the grid."""
        from hpo.replay import replay_cell
        from hpo.testing.tables import made_up_table

        table = made_up_table(tmp_path / "made-up.npz", task=conformance_cell.task.name)
        spec, seed = conformance_cell.spec, conformance_cell.seed
        first = replay_cell(table, spec, seed, workers=workers)
        again = replay_cell(table, spec, seed, workers=workers)
        assert first.workers == workers
        assert first.without_times() == again.without_times()
        assert first.wall_time_s == again.wall_time_s
        budget = conformance_cell.budget
        assert (first.trials_completed, first.epochs_trained) == (budget.trials, budget.epochs)


class TaskConformance(_Conformance):
    """Subclass with `task = "NAME"` (or override the `conformance_task` fixture); the task is
    searched by Hyperband, whose promotions reload weights into the task's own head."""

    task: str = ""
    tuner = "hyperband"

    @pytest.fixture(scope="class")
    def conformance_task(self) -> str:
        if not self.task:
            raise TypeError(f"{type(self).__name__}: set `task = 'NAME'` on the class")
        return self.task

    @pytest.fixture(scope="class")
    def conformance_cell(self, conformance_task: str) -> Cell:
        return Cell.of(self.tuner, self.seed, self.profile, conformance_task)

    def test_every_trial_has_a_size_and_the_front_is_of_its_trials(
        self, uninterrupted: Reference
    ) -> None:
        record = uninterrupted[0]
        assert all(h.params is not None and h.params > 0 for h in record.history)
        assert record.pareto
        assert {p.trial_id for p in record.pareto} <= {h.trial_id for h in record.history}
