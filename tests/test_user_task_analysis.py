"""The analysis of a task of the user's own, from its records alone (made-up records, never
presented as measured): how it is judged, its report, and built-in tasks judged as before."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from hpo.analysis.hypervolume import cell_hypervolume
from hpo.analysis.pareto import pareto_set, size, trial_points
from hpo.analysis.report import write_report
from hpo.analysis.suite import summarize_suite
from hpo.analysis.summary import summarize
from hpo.analysis.tasks import JudgedTask, judged_task_of, judged_tasks, suite_order
from hpo.errors import HpoError
from hpo.experiment.results import CellResult, Results
from hpo.experiment.space import param_range
from hpo.experiment.tasks import TASKS, Task
from hpo.testing.records import made_up_record

NAME = "mymod:task"  # no such module: the analysis must never import it
SIZES = {"a": (120, 800, 3000), "b": (5000, 20000, 90000)}  # a builds the smaller models
ACCURACY_INFO = {
    "objective": "val_accuracy",
    "minimise": False,
    "score": "accuracy",
    "counts": True,
    "builtin": False,
}
AUC_INFO = {"objective": "val_auc", "minimise": False, "score": "auc", "counts": False,
            "builtin": False}  # fmt: skip


def user_record(tuner: str, seed: int, info: dict | None, sizes=None, task=NAME) -> CellResult:
    """A record of `task` whose trials built models of `sizes` parameters; its test score is
    accuracy when `info` counts rows, else an AUC in `test_value`."""
    counts = info is None or info.get("counts", True)
    lift = 0.02 if tuner == "a" else 0.0
    history = [
        {"trial_id": str(i), "status": "COMPLETED", "hyperparameters": {}, "params": p,
         "val_accuracy": 0.8 + 0.05 * i + lift if counts else None, "epochs": 3,
         "elapsed_s": 1.0 + i, **({} if counts else {"score": 0.7 + 0.05 * i + lift})}
        for i, p in enumerate(sizes or SIZES[tuner])
    ]  # fmt: skip
    correct = 100 + seed % 3 + (3 if tuner == "a" else 0)
    record = made_up_record(
        tuner=tuner,
        seed=seed,
        task=task,
        task_info=info,
        history=history,
        trials_completed=len(history),
        epochs_trained=3 * len(history),
        best_val_accuracy=0.9 if counts else None,
        test_accuracy=correct / 114 if counts else None,
        test_value=None if counts else 0.8 + 0.01 * (seed % 3) + lift,
    )
    return CellResult.from_dict(record)


def user_results(info: dict | None, seeds: int = 6) -> Results:
    return Results(cells=[user_record(t, s, info) for t in SIZES for s in range(seeds)])


@pytest.fixture
def no_user_code(monkeypatch):
    """Importing the task's module, TensorFlow or Keras now fails."""
    for name in ("mymod", "tensorflow", "keras", "keras_tuner"):
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize("info", [ACCURACY_INFO, AUC_INFO], ids=["accuracy", "auc"])
def test_a_user_tasks_report_is_written_from_its_records_alone(info, tmp_path, no_user_code):
    summary = write_report(user_results(info), tmp_path)
    assert (tmp_path / "report.md").stat().st_size > 0
    assert (tmp_path / "pareto.png").stat().st_size > 0
    data = json.loads((tmp_path / "summary.json").read_text())
    if info["counts"]:  # one task scored by accuracy: the one-task summary
        assert data["task"] == NAME and data.get("kind") is None
        hv = data["hypervolume"]
    else:  # a score of its own: the suite's summary, which takes the score as it is
        assert data["kind"] == "suite" and data["tasks"] == [NAME]
        task = data["per_task"][NAME]
        assert task["score"] == "auc" and task["objective"] == "val_auc"
        assert task["per_tuner"]["a"]["test_score"]["mean"] == pytest.approx(0.83)
        hv = task["hypervolume"]
        assert "test auc" in (tmp_path / "report.md").read_text()
    assert all(0.0 <= d["mean"] <= 1.0 for d in hv["per_tuner"].values())
    assert hv["per_tuner"]["a"]["mean"] > hv["per_tuner"]["b"]["mean"]  # smaller and better
    assert "builds models of its own" in (tmp_path / "report.md").read_text()
    assert summary is not None


@pytest.mark.parametrize("info", [ACCURACY_INFO, AUC_INFO], ids=["accuracy", "auc"])
def test_a_user_task_is_judged_by_its_task_info_and_the_sizes_observed(info):
    judged = judged_tasks(user_results(info).cells)[NAME]
    assert judged == JudgedTask(
        name=NAME,
        minimise=False,
        regression=not info["counts"],
        score_name=info["score"],
        size_range=(120, 90000),  # the smallest and largest model any trial built
        objective=info["objective"],
    )
    assert size(120, judged) == 0.0 and size(90000, judged) == pytest.approx(1.0)


def test_the_size_range_spans_every_record_of_the_task_and_no_other():
    cells = [
        user_record("a", 0, ACCURACY_INFO, sizes=(300, 400)),
        user_record("b", 0, ACCURACY_INFO, sizes=(50, 7000)),
        user_record("a", 0, ACCURACY_INFO, sizes=(10, 10**6), task="other:task"),
    ]
    judged = judged_tasks(cells)
    assert judged[NAME].size_range == (50, 7000)
    assert judged["other:task"].size_range == (10, 10**6)


@pytest.mark.parametrize("info", [ACCURACY_INFO, AUC_INFO], ids=["accuracy", "auc"])
def test_a_cells_hypervolume_is_in_the_unit_interval(info):
    results = user_results(info)
    judged = judged_tasks(results.cells)[NAME]
    for cell in results.cells:
        volume = cell_hypervolume(cell, judged)
        assert volume is not None and 0.0 <= volume <= 1.0
        assert all(0.0 <= s <= 1.0 for _, _, s in trial_points(cell.history, judged))


def test_one_model_size_is_placed_at_zero_not_divided_by():
    cells = [user_record("a", 0, ACCURACY_INFO, sizes=(500, 500))]
    judged = judged_tasks(cells)[NAME]
    assert judged.size_range == (500, 500) and size(500, judged) == 0.0
    # Every trial at size 0: the hypervolume is 1 - the best error (0.87 accuracy).
    assert cell_hypervolume(cells[0], judged) == pytest.approx(0.87)


def test_records_that_do_not_say_how_to_judge_their_task_are_refused(tmp_path, no_user_code):
    results = user_results(None)
    with pytest.raises(HpoError) as e:
        write_report(results, tmp_path / "out")
    assert str(e.value) == f"records of task {NAME} do not say how to judge it (no task_info)"
    assert not (tmp_path / "out").exists()  # refused before anything was written
    with pytest.raises(HpoError, match="task_info lacks counts"):
        judged_tasks([user_record("a", 0, {"minimise": False, "score": "accuracy"})])


def test_built_in_tasks_are_judged_by_their_task_as_before():
    def record(task: str, info: dict | None) -> CellResult:
        return user_record("a", 0, info, task=task)

    for name, task in TASKS.items():
        judged = judged_tasks([record(name, None)])[name]
        assert judged.size_range == param_range(task)  # hpo's MLP space, not the records'
        assert (judged.minimise, judged.regression, judged.score_name, judged.objective) == (
            task.minimise, task.regression, task.score_name, task.objective,
        )  # fmt: skip
        # A built-in task's own record info changes nothing.
        assert judged_tasks([record(name, {**AUC_INFO, "minimise": True})])[name] == judged


def test_a_built_in_summary_does_not_change_with_task_info():
    def results(info: dict | None) -> Results:
        cells = [
            user_record(t, s, info, sizes=(200, 900 if t == "a" else 2000), task="wine")
            for t in SIZES
            for s in range(6)
        ]
        return Results(cells=cells)

    def numbers(info: dict | None) -> dict:
        data = summarize(results(info)).to_json()
        data["provenance"].pop("report_written")
        return data

    assert json.dumps(numbers(None)) == json.dumps(
        numbers(TASKS["wine"].info().to_dict())
    )  # NaN too
    low, high = param_range(TASKS["wine"])  # sizes on the space's range, as before
    cell = results(None).cells[0]
    points = trial_points(cell.history, judged_tasks([cell])["wine"])
    assert [s for _, _, s in points] == pytest.approx(
        [(np.log10(p) - np.log10(low)) / (np.log10(high) - np.log10(low)) for p in (200, 900)]
    )


def test_the_suite_puts_built_in_tasks_first_then_the_others_by_name():
    assert suite_order(["zz:task", "wine", NAME, "breast_cancer", "wine"]) == [
        "breast_cancer", "wine", NAME, "zz:task",
    ]  # fmt: skip
    cells = [
        *user_results(AUC_INFO).cells,
        *(user_record(t, s, None, sizes=(200, 2000), task="wine") for t in SIZES for s in range(6)),
    ]
    summary = summarize_suite(Results(cells=cells))
    assert summary.tasks == ["wine", NAME]
    assert summary.across_tasks is not None and summary.across_tasks["tasks"] == ["wine", NAME]


def test_a_running_user_task_is_judged_on_its_history():
    """What `hpo.run.cell` does: the front of a Task's trials, sizes on the history's range."""
    task = Task(name=NAME, data=(np.zeros((4, 2)), np.zeros(4)), hypermodel=lambda hp: None)
    history = user_record("b", 0, ACCURACY_INFO, sizes=(9000, 300, 40000)).history
    assert judged_task_of(task, history).size_range == (300, 40000)
    assert pareto_set(history, task) == pareto_set(history, judged_task_of(task, history))
    assert pareto_set(history, task) == [1, 2]  # the smallest, and the most accurate
    with pytest.raises(HpoError, match="builds models of its own"):
        size(300, task)  # no history: no range to place it on


@pytest.mark.parametrize("info", [ACCURACY_INFO, AUC_INFO], ids=["accuracy", "auc"])
def test_the_gate_judges_a_user_tasks_score_in_its_own_terms(info, no_user_code):
    from hpo.analysis.compare import compare

    def run(drop: float) -> Results:
        cells = []
        for s in range(8):
            record = user_record("a", s, info).to_dict()
            record["calibration_s"] = 1.0
            if info["counts"]:
                record["test_accuracy"] -= drop
            else:
                record["test_value"] -= drop
            cells.append(CellResult.from_dict(record))
        return Results(cells=cells)

    [same] = compare(run(0.0), run(0.0))
    assert not same.problems
    [worse] = compare(run(0.0), run(6 / 114))  # six test rows, or 0.053 of an AUC
    what = "test accuracy" if info["counts"] else "test auc"
    assert any(p.startswith(f"{what} fell by") for p in worse.problems), worse.problems
