"""The checks every tuner passes, built-in or brought: one list, one parametrised suite.

A new tuner (a module under hpo/tuners, an installed `hpo.tuners` entry point or
the README's MODULE:ATTR example) gets these by being in `tuner_names()` or in
EXTRA: the same seed gives the same record; the search trains exactly its planned
budget; a search killed just before a state write resumes to the uninterrupted
record; Keras' own fit (`--engine keras`) runs it to the same budget.
"""

from __future__ import annotations

import pytest

from hpo.experiment.profiles import DEFAULT_TASK, Cell, get_profile
from hpo.experiment.tasks import TASKS, get_task
from hpo.run.cell import run_cell
from hpo.tuners import get_tuner, planned_budget, tuner_names
from tests.test_resume import Killed, _counting_writes, reference_runs

pytestmark = pytest.mark.slow

EXTRA = ["examples.mytuners:make_oracle"]  # the README's bring-your-own-tuner example
TUNERS = [*tuner_names(), *EXTRA]
SEED = 4


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """One smoke cell per tuner, and how many state writes of each kind its search made."""
    return reference_runs(TUNERS, SEED, tmp_path_factory.mktemp)


@pytest.mark.parametrize("name", TUNERS)
def test_the_same_seed_gives_the_same_record(name, uninterrupted, tmp_path):
    again = run_cell(Cell.of(name, SEED, "smoke"), tmp_path)
    assert again.without_times() == uninterrupted[name][0].without_times()


@pytest.mark.parametrize("name", TUNERS)
def test_the_search_trains_exactly_its_planned_budget(name, uninterrupted):
    record = uninterrupted[name][0]
    budget = planned_budget(name, get_profile("smoke"))
    assert record.trials_failed == 0
    assert (record.trials_completed, record.epochs_trained) == (budget.trials, budget.epochs)
    assert record.tuner == get_tuner(name).name == name


@pytest.mark.parametrize("name", TUNERS)
def test_a_search_killed_mid_way_resumes_to_the_uninterrupted_record(name, uninterrupted, tmp_path):
    expected, counts = uninterrupted[name]
    kill_at = ("trial.json", max(1, counts["trial.json"] // 2))  # mid-search, between files
    with pytest.raises(Killed), _counting_writes(kill_at=kill_at):
        run_cell(Cell.of(name, SEED, "smoke"), tmp_path, resume=True)
    resumed = run_cell(Cell.of(name, SEED, "smoke"), tmp_path, resume=True)
    assert resumed.without_times() == expected.without_times()


@pytest.mark.parametrize("name", TUNERS)
def test_the_keras_engine_trains_the_same_plan(name, tmp_path):
    """`--engine keras` (Keras' own fit per model) runs every tuner, to the same budget."""
    record = run_cell(Cell.of(name, SEED, "smoke", engine="keras"), tmp_path)
    budget = planned_budget(name, get_profile("smoke"))
    assert record.engine == "keras" and record.trials_failed == 0
    assert (record.trials_completed, record.epochs_trained) == (budget.trials, budget.epochs)


def test_the_readme_example_is_the_example_file():
    from pathlib import Path

    root = Path(__file__).parents[1]
    example = (root / "examples" / "mytuners.py").read_text()
    assert f"```python\n{example}```" in (root / "README.md").read_text()


# Every task passes the same checks, on Hyperband: multi-fidelity, so its promoted trials
# reload weights into the task's head, and its checkpoints and promotions read the task's
# objective (a loss, minimised, for regression).
OTHER_TASKS = [t for t in TASKS if t != DEFAULT_TASK]


@pytest.mark.parametrize("task", OTHER_TASKS)
def test_every_task_is_deterministic_resumes_exactly_and_records_its_front(task, tmp_path):
    cell = Cell.of("hyperband", SEED, "smoke", task)
    with _counting_writes() as counts:
        first = run_cell(cell, tmp_path / "first", resume=True)
    assert run_cell(cell, tmp_path / "again").without_times() == first.without_times()
    with pytest.raises(Killed), _counting_writes(kill_at=("trial.json", counts["trial.json"] // 2)):
        run_cell(cell, tmp_path / "killed", resume=True)
    resumed = run_cell(cell, tmp_path / "killed", resume=True)
    assert resumed.without_times() == first.without_times()

    budget = planned_budget("hyperband", get_profile("smoke"))
    assert (first.trials_completed, first.epochs_trained) == (budget.trials, budget.epochs)
    assert first.task == task and all(h["params"] > 0 for h in first.history)
    assert first.pareto and {p["trial_id"] for p in first.pareto} <= {
        h["trial_id"] for h in first.history
    }
    regression = get_task(task).regression
    assert (first.test_accuracy is None) == regression == (first.test_r2 is not None)
    keras_fit = run_cell(Cell.of("hyperband", SEED, "smoke", task, "keras"), tmp_path / "keras")
    assert (keras_fit.trials_completed, keras_fit.epochs_trained) == (budget.trials, budget.epochs)
