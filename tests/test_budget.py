"""Regret and rank against budget (`hpo.analysis.budget`) on made-up records with known
answers (never presented as measured): a tuner best early and worst late shows it."""

from __future__ import annotations

import pytest

from hpo.analysis.budget import POINTS, over_budget
from hpo.analysis.tasks import judged_tasks
from hpo.experiment.results import CellResult
from hpo.testing.records import made_up_record
from tests.helpers import trials_every

# Per tuner: the validation accuracy of its four trials (one epoch, one second each).
SCORES = {
    "early": [0.90, 0.90, 0.90, 0.90],  # its best at once, then nothing better
    "late": [0.50, 0.60, 0.70, 0.95],  # worst for long, best at the end
    "random": [0.70, 0.75, 0.80, 0.85],
}
TASKS = ("wine", "synthetic")


def record(tuner: str, seed: int, task: str, scores: list[float], second: float = 1.0):
    history = trials_every(scores, second)
    return CellResult.from_dict(
        made_up_record(tuner=tuner, seed=seed, task=task, history=history,
                       trials_completed=4, epochs_trained=4, wall_time_s=4 * second)
    )  # fmt: skip


def cells(scores=SCORES, seeds=range(8), tasks=TASKS) -> dict[str, list[CellResult]]:
    return {
        task: [record(t, s, task, v) for t, v in scores.items() for s in seeds] for task in tasks
    }


def _at(curve: list, fraction: float) -> float:
    return curve[round(fraction * (POINTS - 1))]


def test_a_tuner_best_early_and_worst_late_shows_it_in_regret_and_rank() -> None:
    per_task = cells()
    ob = over_budget(per_task, judged_tasks([c for v in per_task.values() for c in v]))
    assert ob is not None and ob["tuners"] == ["early", "late", "random"]
    assert ob["blocks"] == 16 and ob["regret_tasks"] == list(TASKS)
    for axis in ("epochs", "seconds"):
        data = ob["axes"][axis]
        regret, rank = data["regret"], data["average_rank"]
        # 0 = 0.95 (the best found), 1 = 0.85 (random's final mean): a 0.10 gap.
        assert _at(regret["early"]["mean"], 0.25) == pytest.approx(0.5)
        assert _at(regret["late"]["mean"], 0.25) == pytest.approx(4.5)
        assert _at(regret["random"]["mean"], 0.25) == pytest.approx(2.5)
        assert _at(regret["late"]["mean"], 1.0) == pytest.approx(0.0)
        assert _at(regret["random"]["mean"], 1.0) == pytest.approx(1.0)
        assert _at(rank["early"], 0.25) == 1.0 and _at(rank["late"], 0.25) == 3.0
        assert _at(rank["late"], 1.0) == 1.0 and _at(rank["random"], 1.0) == 3.0
        # Identical seeds: the bootstrap band is the mean itself.
        assert _at(regret["early"]["low"], 0.5) == pytest.approx(_at(regret["early"]["mean"], 0.5))
        assert data["leader"][round(0.25 * (POINTS - 1))] == "early"
        assert data["leader"][-1] == "late" and data["dominant"] is None
        cd = data["critical_differences"]
        assert cd["0.25"]["average_ranks"] == {"early": 1.0, "late": 3.0, "random": 2.0}
        assert cd["1"]["average_ranks"] == {"early": 2.0, "late": 1.0, "random": 3.0}
        assert cd["1"]["p_value"] < 0.001  # the same order in all 16 blocks


def test_before_any_model_there_is_no_incumbent() -> None:
    per_task = cells()
    ob = over_budget(per_task, judged_tasks([c for v in per_task.values() for c in v]))
    assert ob is not None
    data = ob["axes"]["epochs"]
    assert data["regret"]["early"]["mean"][0] is None  # at 0 epochs no trial has ended
    assert data["average_rank"]["early"][0] is None


def test_a_tuner_best_everywhere_dominates() -> None:
    scores = {"best": [0.96, 0.97, 0.98, 0.99], "random": [0.70, 0.75, 0.80, 0.85],
              "late": [0.50, 0.60, 0.70, 0.95]}  # fmt: skip
    per_task = cells(scores)
    ob = over_budget(per_task, judged_tasks([c for v in per_task.values() for c in v]))
    assert ob is not None
    assert ob["axes"]["epochs"]["dominant"] == ob["axes"]["seconds"]["dominant"] == "best"


def test_the_seconds_axis_is_each_searchs_own_clock() -> None:
    """'late' takes 10 s a trial: on the seconds axis it has no model until 10 s, so at 25 %
    of the longest search (40 s) it has one trial, at 50 % two; on epochs, the same as the
    others."""
    per_task = {
        task: [record(t, s, task, v, second=10.0 if t == "late" else 1.0)
               for t, v in SCORES.items() for s in range(6)]
        for task in TASKS
    }  # fmt: skip
    ob = over_budget(per_task, judged_tasks([c for v in per_task.values() for c in v]))
    assert ob is not None
    seconds = ob["axes"]["seconds"]
    assert seconds["budget"] == {"wine": 40.0, "synthetic": 40.0}
    assert _at(seconds["regret"]["late"]["mean"], 0.25) == pytest.approx(4.5)  # 0.50 at 10 s
    assert _at(seconds["regret"]["late"]["mean"], 0.5) == pytest.approx(3.5)  # 0.60 at 20 s
    # Everyone else ended by 4 s: at 25 % they hold their final incumbents.
    assert _at(seconds["regret"]["random"]["mean"], 0.25) == pytest.approx(1.0)


def test_a_minimised_objective_is_judged_the_other_way_round() -> None:
    """On diabetes (val_loss) the lowest loss is best: the same shapes, mirrored."""
    losses = {t: [1.0 - v for v in s] for t, s in SCORES.items()}
    per_task = {
        "diabetes": [
            CellResult.from_dict(made_up_record(
                tuner=t, seed=s, task="diabetes", best_val_accuracy=None, test_accuracy=None,
                test_r2=0.5, trials_completed=4, epochs_trained=4,
                history=[{"trial_id": str(i), "status": "COMPLETED", "val_accuracy": None,
                          "score": x, "epochs": 1, "elapsed_s": float(i + 1), "params": 100}
                         for i, x in enumerate(v)]))
            for t, v in losses.items() for s in range(6)
        ]
    }  # fmt: skip
    ob = over_budget(per_task, judged_tasks(per_task["diabetes"]))
    assert ob is not None
    regret = ob["axes"]["epochs"]["regret"]
    assert _at(regret["early"]["mean"], 0.25) == pytest.approx(0.5)
    assert _at(regret["late"]["mean"], 1.0) == pytest.approx(0.0)


def test_a_task_without_a_gap_is_left_out_of_the_regret_not_the_ranks() -> None:
    """On 'wine' random search already reaches the best every time (saturated): regret is
    only 'synthetic''s; ranks count both tasks' blocks."""
    per_task = cells()
    per_task["wine"] = [
        record(t, s, "wine", [1.0] * 4 if t == "random" else v)
        for t, v in SCORES.items() for s in range(8)
    ]  # fmt: skip
    ob = over_budget(per_task, judged_tasks([c for v in per_task.values() for c in v]))
    assert ob is not None and ob["regret_tasks"] == ["synthetic"] and ob["blocks"] == 16
    assert _at(ob["axes"]["epochs"]["regret"]["random"]["mean"], 1.0) == pytest.approx(1.0)


def test_one_tuner_has_nothing_to_compare() -> None:
    per_task = cells({"random": SCORES["random"]})
    assert over_budget(per_task, judged_tasks([c for v in per_task.values() for c in v])) is None
