"""Your model, your data: a task given as MODULE:ATTR is searched, recorded and judged like a
built-in one, and bad tasks end in one line (exit 2) before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpo.cli import main
from hpo.errors import HpoError
from hpo.experiment.tasks import TASKS, get_task
from hpo.run.cell import Cell, run_cell
from tests.helpers import error_lines

BAD = {
    "tests.no_such_module:task": "cannot load module 'tests.no_such_module'",
    "tests.user_tasks:no_such_task": "has no attribute 'no_such_task'",
    "tests.user_tasks:not_a_task": "is int, not an hpo.Task",
    "tests.user_tasks:nan_features": "features hold 1 NaN or infinite value(s)",
    "tests.user_tasks:inf_labels": "labels hold",
    "tests.user_tasks:lengths_differ": "240 rows of features but 237 labels",
    "tests.user_tasks:too_few_rows": "cannot split its 4 rows",
    "tests.user_tasks:labels_head_cannot_fit": "labels 0..10 but the model outputs 3 columns",
    "tests.user_tasks:build_raises": "building the model failed: ValueError: no such layer",
    "tests.user_tasks:build_returns_no_model": "returned str, not a compiled Keras model",
    "tests.user_tasks:build_returns_uncompiled": "is not compiled",
    "tests.user_tasks:empty_space": "declares no hyperparameters",
}


@pytest.mark.parametrize(("task", "message"), BAD.items(), ids=list(BAD))
def test_a_bad_task_ends_in_one_line_before_anything_is_written(task, message, tmp_path, capsys):
    out = tmp_path / "results"
    argv = ["run", "--task", task, "--tuner", "random", "--seed", "0", "--profile", "smoke"]
    code = main([*argv, "--out", str(out)])
    lines = error_lines(capsys.readouterr().err)
    assert code == 2
    assert len(lines) == 1 and message in lines[0], lines
    assert not out.exists()


def test_a_task_is_recorded_under_the_name_it_was_asked_by():
    task = get_task("tests.user_tasks:conv_task")
    assert task.name == "tests.user_tasks:conv_task" and not task.searches_mlp
    assert get_task("tests.user_tasks:conv_task") is task  # resolved once per process
    assert Cell.of("random", 0, "smoke", task.name).name.startswith("tests.user_tasks.conv_task-")


def test_builtin_tasks_are_unchanged_values():
    for task in TASKS.values():
        assert task.searches_mlp and task.head is not None and task.info().searches_mlp


@pytest.fixture(scope="module")
def conv_record(tmp_path_factory):
    cell = Cell.of("random", 0, "smoke", "tests.user_tasks:conv_task")
    return run_cell(cell, tmp_path_factory.mktemp("conv"))


def test_a_model_the_graph_engine_refuses_is_trained_by_keras_fit(conv_record):
    assert {h.engine for h in conv_record.history} == {"keras"}
    assert conv_record.engine == "graph"  # what was asked for; each trial says what trained it


def test_the_record_counts_the_built_models_parameters(conv_record):
    # Conv1D(filters, kernel 3) on 1 channel, then Dense(3): weights and biases.
    for h in conv_record.history:
        f = h.hyperparameters["filters"]
        assert h.params == (3 * 1 * f + f) + (f * 3 + 3)


def test_the_record_says_how_to_judge_the_task(conv_record):
    assert conv_record.task == "tests.user_tasks:conv_task"
    assert conv_record.task_info.to_dict() == {
        "objective": "val_accuracy",
        "minimise": False,
        "score": "accuracy",
        "counts": True,
        "builtin": False,
    }
    assert 0 <= conv_record.test_accuracy <= 1 and conv_record.test_value is None
    # Accuracy on the test rows is a whole number of rows.
    rows = conv_record.test_accuracy * conv_record.n_test
    assert abs(rows - round(rows)) < 1e-6


def test_a_model_of_the_graph_engines_kind_is_trained_by_it(tmp_path):
    record = run_cell(Cell.of("hyperband", 0, "smoke", "tests.user_tasks:mlp_task"), tmp_path)
    assert {h.engine for h in record.history} == {"graph"}
    assert all(
        h.params == (16 + 1) * h.hyperparameters["units"] + (h.hyperparameters["units"] + 1) * 3
        for h in record.history
    )


def test_a_task_value_is_checked_when_made():
    with pytest.raises(HpoError, match="give a hypermodel"):
        __import__("hpo").Task(name="x", data=([[0.0]], [0]))
    with pytest.raises(HpoError, match="not a validation log"):
        __import__("hpo").Task(name="x", data=([[0.0]], [0]), hypermodel=len, objective="accuracy")


def test_built_in_records_do_not_carry_task_info(tmp_path):
    record = run_cell(Cell.of("random", 0, "smoke"), tmp_path)
    assert record.task_info is None
    assert all(h.engine == "graph" for h in record.history)


def test_the_report_reads_a_user_tasks_records(conv_record, tmp_path):
    from hpo.analysis.report import write_report
    from hpo.experiment.results import Results

    write_report(Results([conv_record]), tmp_path)
    assert (tmp_path / "report.md").exists()
    assert Path(tmp_path / "summary.json").exists()


@pytest.mark.parametrize("tuner", ["bayesian", "random"])
def test_a_space_declared_in_a_loop_gives_the_same_record_for_the_same_seed(tuner, tmp_path):
    """Keras Tuner fills a value declared after its trial was drawn with an unseeded random
    sample; hpo's search gives it its default, which the build used."""
    cell = Cell.of(tuner, 1, "quick", "tests.user_tasks:loop_task")
    first = run_cell(cell, tmp_path / "a")
    again = run_cell(cell, tmp_path / "b")
    assert first.without_times() == again.without_times()
    assert any(h.hyperparameters["layers"] > 1 for h in first.history)


def test_a_value_keras_tuner_would_fill_at_random_gets_its_default():
    import keras_tuner as kt

    from hpo.run.search import defaults_for_missing_values

    def filled() -> int:
        hp = kt.HyperParameters()
        hp.Int("units", 1, 10_000, default=7)
        hp.values.clear()  # declared, active, and without a value
        hp.ensure_active_values()
        return hp.values["units"]

    assert len({filled() for _ in range(5)}) > 1  # Keras Tuner's own: unseeded
    with defaults_for_missing_values():
        assert {filled() for _ in range(5)} == {7}
    assert len({filled() for _ in range(5)}) > 1  # restored after the block


def test_tensorboard_shows_a_users_task_trial_by_trial(conv_record, tmp_path):
    from hpo.run.tracking import track

    [said] = track(conv_record, tmp_path, None)
    runs = sorted(p.name for p in (tmp_path / conv_record.id.name).iterdir())
    assert runs == [f"trial_{h.trial_id}" for h in conv_record.history]
    assert "tests.user_tasks.conv_task-random-smoke-seed0" in said


def test_an_mlflow_folder_is_refused_before_the_search(tmp_path, capsys):
    argv = ["run", "--task", "tests.user_tasks:conv_task", "--tuner", "random", "--seed", "0"]
    code = main([*argv, "--profile", "smoke", "--out", str(tmp_path / "r"), "--mlflow", "mlruns"])
    [line] = error_lines(capsys.readouterr().err)
    assert code == 2 and "MLflow keeps runs in a database" in line
    assert not (tmp_path / "r").exists()


def test_epochs_scale_scales_every_tuners_budget(tmp_path):
    cell = Cell.of("hyperband", 0, "smoke", "tests.user_tasks:short_task")
    assert cell.trained_profile.epochs == 2  # smoke's 3 epochs times 2/3
    record = run_cell(cell, tmp_path)
    assert (record.trials_completed, record.epochs_trained) == (
        cell.budget.trials,
        cell.budget.epochs,
    )
    assert max(h.epochs for h in record.history) <= 2
