"""The suite's statistics on made-up records with known answers (never presented as measured):
a real shift is found on every task, exact ties are ties, noise is rarely called a win."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hpo.analysis.comparison import across_tasks, compare_task
from hpo.analysis.suite import summarize_suite, task_summary
from hpo.analysis.tasks import judged_tasks
from hpo.cli import main
from hpo.experiment.records import ReplaySource, TrialRecord
from hpo.experiment.results import CellResult, Results, write_json
from hpo.experiment.space import param_range
from hpo.experiment.tasks import get_task

N_TEST = {"wine": 36, "synthetic": 400, "diabetes": 89}


def made_up(task: str, tuner: str, seed: int, score: float, sizes=(0.2, 0.8)) -> CellResult:
    """A record whose test score is `score` (correct rows for classification, R² for
    regression) and whose trials sit at the given sizes (fractions of the size range)."""
    t = get_task(task)
    low, high = param_range(t)
    history = []
    for i, frac in enumerate(sizes):
        params = int(round(low * (high / low) ** frac))
        value = 0.5 + 0.4 * i / len(sizes)
        history.append({
            "trial_id": str(i), "status": "COMPLETED", "hyperparameters": {}, "params": params,
            "val_accuracy": None if t.regression else value, "epochs": 5, "elapsed_s": 1.0 + i,
            **({"score": 1 - value} if t.regression else {}),
        })  # fmt: skip
    return CellResult(
        tuner=tuner, seed=seed, profile="smoke", task=task,
        best_val_accuracy=None if t.regression else 0.9, best_val_loss=0.3,
        test_accuracy=None if t.regression else score / N_TEST[task],
        test_r2=score if t.regression else None, test_loss=0.3, wall_time_s=2.0,
        trials_completed=len(sizes), trials_failed=0, epochs_trained=5 * len(sizes),
        best_hyperparameters={}, history=[TrialRecord.from_dict(h) for h in history],
        n_train=100, n_val=30, n_test=N_TEST[task],
        pareto=[],
    )  # fmt: skip


def suite(shift_rows: float, shift_r2: float, noise: np.random.Generator | None = None):
    """Tuners a, b, c on three tasks and ten seeds; a is shifted up, b and c tie exactly."""
    cells = []
    for task in N_TEST:
        for seed in range(10):
            for tuner in "abc":
                if get_task(task).regression:
                    base = 0.4 + 0.01 * (seed % 4)
                    score = base + (shift_r2 if tuner == "a" else 0.0)
                    if noise is not None:
                        score = base + noise.normal(0, 0.05)
                else:
                    base = N_TEST[task] - 8 - seed % 3
                    score = base + (shift_rows if tuner == "a" else 0)
                    if noise is not None:
                        score = base + noise.integers(-2, 3)
                cells.append(made_up(task, tuner, seed, score))
    return Results(cells=cells)


def test_a_real_shift_wins_every_task_and_exact_ties_are_ties():
    summary = summarize_suite(suite(shift_rows=3, shift_r2=0.05))
    across = summary.across_tasks
    assert across is not None
    wtl = across["wins_ties_losses"]
    assert wtl["a"]["b"] == wtl["a"]["c"] == [3, 0, 0]
    assert wtl["b"]["a"] == [0, 0, 3]
    assert wtl["b"]["c"] == wtl["c"]["b"] == [0, 3, 0]  # equal on every seed: exact ties
    assert across["average_ranks"] == {"a": 1.0, "b": 2.5, "c": 2.5}
    assert across["blocks"] == 30 and across["friedman"]["p_value"] < 1e-6
    for s in summary.per_task.values():
        bc = next(p for p in s["pairs"] if {p["a"], p["b"]} == {"b", "c"})
        assert bc["p_value"] == 1.0 and not bc["significant"]
        ab = next(p for p in s["pairs"] if (p["a"], p["b"]) == ("a", "b"))
        assert ab["significant"] and ab["mean_difference"] > 0
    # Ten seeds, all one way: the exact Wilcoxon p is 2 / 2**10, tripled by Holm at most.
    assert summary.per_task["wine"]["pairs"][0]["p_adjusted"] == pytest.approx(3 * 2 / 1024)


def test_noise_is_rarely_called_a_win():
    """Holm keeps the chance of any false win within a task at 5 %: measured over 90 tasks."""
    rng = np.random.default_rng(0)
    tasks_with_a_win = 0
    runs = 30
    for _ in range(runs):
        summary = summarize_suite(suite(0, 0, noise=rng))
        for s in summary.per_task.values():
            tasks_with_a_win += any(p["significant"] for p in s["pairs"])
    rate = tasks_with_a_win / (3 * runs)
    print(f"tasks with a false win: {tasks_with_a_win} of {3 * runs}")
    assert rate <= 0.10, rate  # 5 % promised; 10 % is two binomial sd (2.3 %) above it


def test_hypervolume_finds_the_tuner_with_smaller_models():
    cells = [
        made_up("wine", t, s, 30, sizes=(0.1, 0.5) if t == "small" else (0.6, 0.9))
        for t in ("small", "large") for s in range(8)
    ]  # fmt: skip
    hv = task_summary(cells)["hypervolume"]
    assert hv["per_tuner"]["small"]["mean"] > hv["per_tuner"]["large"]["mean"]
    (pair,) = hv["pairs"]
    assert pair["significant"] and pair["mean_difference"] > 0


def test_one_task_has_no_across_task_section():
    cells = suite(1, 0).cells[:30]
    assert across_tasks({"wine": compare_task(cells, judged_tasks(cells)["wine"])}, 0.05) is None


def test_the_suite_report_is_written_with_its_tables_and_figures(tmp_path, capsys):
    records = suite(shift_rows=3, shift_r2=0.05).cells
    paths = [write_json(tmp_path / f"r{i}.json", c.to_dict()) for i, c in enumerate(records)]
    out = tmp_path / "report"
    assert main(["report", *map(str, paths), "--out", str(out)]) == 0
    text = (out / "report.md").read_text()
    assert "## Across tasks" in text and "Wins / ties / losses" in text
    assert "| a | — | 3/0/0 | 3/0/0 |" in text
    assert "## Task diabetes" in text and "test R²" in text and "hypervolume" in text
    for name in ("pareto.png", "hypervolume.png", "critical_difference.png", "cells.csv"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "suite" and summary["tasks"] == ["wine", "diabetes", "synthetic"]
    assert "average ranks on the test score" in capsys.readouterr().out


def test_a_suite_of_replayed_cells_says_so_wherever_it_states_a_result(tmp_path, capsys):
    import dataclasses

    replay = ReplaySource(table="made-up.npz", hash="0" * 64, seed_rule="rule", epochs=3)
    records = [
        dataclasses.replace(c, replay=replay) if c.task != "wine" else c
        for c in suite(shift_rows=3, shift_r2=0.05).cells
    ]
    summary = summarize_suite(Results(cells=records))
    said = (
        "Results replayed from made-up.npz (real trainings; results hold for each table's"
        " one split and training seeds) (60 of 90 cells)."
    )
    assert summary.conclusions()[0] == said
    assert summary.to_json()["replayed"] == {"tables": ["made-up.npz"], "cells": 60, "of": 90}
    paths = [write_json(tmp_path / f"r{i}.json", c.to_dict()) for i, c in enumerate(records)]
    assert main(["report", *map(str, paths), "--out", str(tmp_path / "report")]) == 0
    assert said[:-1] in (tmp_path / "report" / "report.md").read_text()
    assert said in capsys.readouterr().out
    live = summarize_suite(suite(shift_rows=3, shift_r2=0.05))
    assert "replayed" not in " ".join(live.conclusions()) and live.replayed is None


def test_the_gate_pairs_cells_by_task_and_seed():
    """An R² drop on diabetes is a regression of diabetes/a alone; wine's equal rows are not."""
    import dataclasses

    from hpo.analysis.compare import compare, render

    def run(r2_drop: float) -> Results:
        cells = [
            made_up(task, "a", seed, 0.4 + 0.01 * seed - r2_drop if task == "diabetes" else 30)
            for task in ("wine", "diabetes")
            for seed in range(6)
        ]
        return Results([dataclasses.replace(c, calibration_s=1.0) for c in cells])

    verdicts = {v.label: v for v in compare(run(0.0), run(0.05))}
    assert set(verdicts) == {"wine/a", "diabetes/a"}
    assert verdicts["diabetes/a"].regressed and not verdicts["wine/a"].regressed
    assert verdicts["diabetes/a"].accuracy_drop == pytest.approx(0.05)
    assert "test R² fell by 0.050" in verdicts["diabetes/a"].problems[0]
    assert "diabetes/a" in render(list(verdicts.values()))


def test_a_suite_summary_answers_as_one_tasks_does():
    """The report asks any summary for its table, conclusions and JSON; a suite's JSON
    says it is one, and names no single winner."""
    from hpo.analysis.report import conclusions, main_table

    summary = summarize_suite(suite(shift_rows=3, shift_r2=0.05))
    data = summary.to_json()
    assert data["kind"] == "suite" and data["winner"] is None
    assert data["verdict"] == {"text": summary.verdict, "winner": None}
    assert data["per_task"]["wine"]["pairs"] == summary.per_task["wine"]["pairs"]
    data["per_task"]["wine"]["pairs"].clear()  # a copy: the summary is not changed through it
    assert summary.per_task["wine"]["pairs"]
    assert main_table(summary).count("| tuner | test ") == 3
    assert conclusions(summary) == [summary.verdict.replace("**", "")]


def test_one_tuners_hypervolume_sentence_compares_nothing():
    from hpo.analysis.hypervolume import hypervolume_verdict

    text = hypervolume_verdict([], {"random": {"mean": 0.5}}, None, 3)
    assert text == "Accuracy against size, hypervolume: random 0.500 on average."
