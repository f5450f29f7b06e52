"""The checks every tuner and task passes, built-in or brought: hpo.testing's suites, run here
over every built-in tuner and task, the README's bring-your-own-tuner example, and the keras
engine.

A new tuner (a module under hpo/tuners, an installed `hpo.tuners` entry point, or a
MODULE:ATTR in EXTRA) gets these by being listed: the same seed gives the same record; the
search trains exactly its planned budget; a search killed just before a state write resumes
to the uninterrupted record.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hpo.experiment.profiles import DEFAULT_TASK
from hpo.experiment.tasks import TASKS, get_task
from hpo.run.cell import Cell, run_cell
from hpo.testing import TaskConformance, TunerConformance
from hpo.tuners import tuner_names

pytestmark = pytest.mark.slow

EXTRA = [
    "examples.mytuners:make_oracle",  # the README's bring-your-own-tuner example
    "examples.mysampler:SPEC",  # docs/extending.md's any-Optuna-sampler example
]
EXAMPLE_TASK = "examples.signals:task"  # docs/your-task.md's bring-your-own-task example
TUNERS = [*tuner_names(), *EXTRA]
OTHER_TASKS = [t for t in TASKS if t != DEFAULT_TASK]


class TestEveryTuner(TunerConformance):
    @pytest.fixture(scope="class", params=TUNERS)
    def conformance_tuner(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)


class TestTheExampleTaskOnEveryTuner(TunerConformance):
    """docs/your-task.md's example (examples/signals.py): a Conv1D HyperModel of its own."""

    task = EXAMPLE_TASK

    @pytest.fixture(scope="class", params=tuner_names())
    def conformance_tuner(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)

    def test_its_records_name_the_engine_and_the_built_models_sizes(self, uninterrupted):
        record = uninterrupted[0]
        assert {h.engine for h in record.history} == {"keras"}
        assert all(h.params >= 244 for h in record.history)  # its smallest model
        assert record.task_info is not None and record.task_info.score == "accuracy"


class TestEveryTask(TaskConformance):
    @pytest.fixture(scope="class", params=OTHER_TASKS)
    def conformance_task(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)

    def test_the_test_score_is_the_tasks(self, conformance_cell: Cell, uninterrupted) -> None:
        record = uninterrupted[0]
        regression = get_task(conformance_cell.task.name).regression
        assert (record.test_accuracy is None) == regression == (record.test_r2 is not None)


@pytest.mark.parametrize("name", TUNERS)
def test_the_keras_engine_trains_the_same_plan(name, tmp_path):
    """`--engine keras` (Keras' own fit per model) runs every tuner, to the same budget."""
    cell = Cell.of(name, TunerConformance.seed, "smoke", engine="keras")
    record = run_cell(cell, tmp_path)
    assert record.engine == "keras" and record.trials_failed == 0
    assert (record.trials_completed, record.epochs_trained) == (
        cell.budget.trials,
        cell.budget.epochs,
    )


@pytest.mark.parametrize("task", OTHER_TASKS)
def test_the_keras_engine_trains_every_task(task, tmp_path):
    cell = Cell.of("hyperband", TaskConformance.seed, "smoke", task, "keras")
    record = run_cell(cell, tmp_path)
    assert (record.trials_completed, record.epochs_trained) == (
        cell.budget.trials,
        cell.budget.epochs,
    )


def test_the_readme_example_is_the_example_file():
    root = Path(__file__).parents[1]
    example = (root / "examples" / "mytuners.py").read_text()
    assert f"```python\n{example}```" in (root / "README.md").read_text()


def test_the_docs_optuna_sampler_example_is_the_example_file():
    root = Path(__file__).parents[1]
    example = (root / "examples" / "mysampler.py").read_text()
    assert f"```python\n{example}```" in (root / "docs" / "extending.md").read_text()


def test_the_docs_example_task_is_the_example_file():
    root = Path(__file__).parents[1]
    example = (root / "examples" / "signals.py").read_text()
    assert f"```python\n{example}```" in (root / "docs" / "your-task.md").read_text()
