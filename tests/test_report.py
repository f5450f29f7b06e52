"""hpo report on small JSON files made here (synthetic inputs, never presented as measured)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from hpo.analysis import stats
from hpo.analysis.report import report_of
from hpo.cli import main
from hpo.experiment.results import write_json

TUNERS = ("hyperband", "bayesian", "random")


def synthetic_cell(tuner: str, seed: int, test_accuracy: float, time_s: float) -> dict:
    history = [
        {"trial_id": str(i), "status": "COMPLETED", "hyperparameters": {}, "val_accuracy": v,
         "epochs": 5, "elapsed_s": time_s * (i + 1) / 3}
        for i, v in enumerate([0.90, 0.95, 0.97])
    ]  # fmt: skip
    return {
        "tuner": tuner, "seed": seed, "profile": "smoke", "best_val_accuracy": 0.97,
        "best_val_loss": 0.1, "test_accuracy": test_accuracy, "test_loss": 0.2,
        "wall_time_s": time_s, "trials_completed": 3, "trials_failed": 0,
        "epochs_trained": 15, "best_hyperparameters": {}, "history": history,
        "n_train": 364, "n_val": 91, "n_test": 114,
    }  # fmt: skip


def benchmark_json(cells: list[dict], references: list[dict] = ()) -> dict:
    benches = [{"name": f"test_search[{c['tuner']}-{c['seed']}]", "extra_info": {"cell": c}}
               for c in cells]  # fmt: skip
    benches += [{"name": "test_references", "extra_info": {"reference": b}} for b in references]
    return {"machine_info": {}, "benchmarks": benches}


def accuracies(seed: int, tuner: str, shift: float) -> float:
    base = 100 + (seed * 7 + TUNERS.index(tuner) * 3) % 9
    return min(114, base + (shift if tuner == "bayesian" else 0)) / 114


@pytest.fixture
def shards(tmp_path):
    """Ten seeds in two shards; bayesian is 6 rows better on every seed."""
    paths = []
    for shard, seeds in enumerate((range(0, 5), range(5, 10))):
        cells = [
            synthetic_cell(t, s, accuracies(s, t, 6), 10.0 + TUNERS.index(t) + s / 10)
            for t in TUNERS
            for s in seeds
        ]
        references = [
            {"seed": s, "default_mlp": 106 / 114, "logistic_regression": 109 / 114} for s in seeds
        ]
        paths.append(write_json(tmp_path / f"shard{shard}.json", benchmark_json(cells, references)))
    return paths


def test_report_merges_shards_and_names_a_clear_winner(shards, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", *map(str, shards), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_seeds"] == 10 and summary["winner"] == "bayesian"
    for name in (
        "test_accuracy.png", "wall_time.png", "anytime.png", "paired.png", "cost_accuracy.png",
        "critical_difference.png", "report.md", "cells.csv", "trials.csv",
    ):  # fmt: skip
        assert (out / name).stat().st_size > 0
    text = (out / "report.md").read_text()
    assert "optimistically biased" in text and "claimed" in text and "91 validation rows" in text
    assert "bayesian" in capsys.readouterr().out


def test_report_numbers_are_scipys(shards, tmp_path):
    out = tmp_path / "report"
    main(["report", *map(str, shards), "--out", str(out)])
    summary = json.loads((out / "summary.json").read_text())
    acc = {t: [accuracies(s, t, 6) for s in range(10)] for t in TUNERS}
    d = summary["per_tuner"]["random"]["test_accuracy"]
    assert (d["ci_low"], d["ci_high"]) == pytest.approx(stats.t_interval(acc["random"]))
    assert d["mean"] == pytest.approx(np.mean(acc["random"]))
    pair = next(
        p for p in summary["pairs"]
        if (p["a"], p["b"], p["metric"]) == ("hyperband", "bayesian", "test_accuracy")
    )  # fmt: skip
    from scipy.stats import wilcoxon

    rows = {t: np.rint(np.multiply(acc[t], 114)) for t in TUNERS}  # tests run on counts
    assert pair["p_value"] == wilcoxon(rows["hyperband"], rows["bayesian"]).pvalue
    for key in ("p_adjusted", "effect_size", "significant"):
        assert key in pair


def test_no_winner_when_tuners_are_alike(tmp_path):
    cells = [synthetic_cell(t, s, accuracies(s, "random", 0), 10.0) for t in TUNERS
             for s in range(6)]  # fmt: skip
    path = write_json(tmp_path / "same.json", benchmark_json(cells))
    main(["report", str(path), "--out", str(tmp_path / "r")])
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["winner"] is None
    assert summary["min_p_adjusted"] == pytest.approx(3 * 2 / 2**6)
    text = (tmp_path / "r" / "report.md").read_text()
    assert "No significant difference at 6 seeds" in text
    assert "at least 7 seeds" in text
    assert summary["verdict"] == {
        "winner": None, "significant_pairs": [], "text": summary["verdict"]["text"]
    }  # fmt: skip


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ({"machine_info": {}}, "neither a pytest-benchmark JSON"),
        ({"benchmarks": [{"extra_info": {"cell": {"tuner": "random"}}}]}, "lacks field"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "in.json"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        write_json(path, content)
    assert main(["report", str(path), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "r" / "summary.json").exists()


def test_mixed_profiles_are_refused(tmp_path, capsys):
    cells = [synthetic_cell("random", 0, 0.5, 1.0), synthetic_cell("random", 1, 0.5, 1.0)]
    cells[1]["profile"] = "quick"
    path = write_json(tmp_path / "mixed.json", benchmark_json(cells))
    assert main(["report", str(path), "--out", str(tmp_path / "r")]) == 2
    assert "mix profiles" in capsys.readouterr().err


# ---------------------------------------------------------------- known answers


def _report(tmp_path, cells, references=(), name="r", stopped=()):
    doc = benchmark_json(cells, references)
    doc["benchmarks"] += [{"name": "x", "extra_info": {"stopped": s}} for s in stopped]
    path = write_json(tmp_path / f"{name}.json", doc)
    assert main(["report", str(path), "--out", str(tmp_path / name)]) == 0
    summary = json.loads((tmp_path / name / "summary.json").read_text())
    return summary, (tmp_path / name / "report.md").read_text()


def test_two_significant_pairs_without_a_single_winner_are_both_named(tmp_path):
    # hyperband and bayesian each beat random by two rows on all ten seeds; they tie.
    cells = [
        synthetic_cell(t, s, (104 + s % 5 + (0 if t == "random" else 2)) / 114, 10.0)
        for t in TUNERS for s in range(10)
    ]  # fmt: skip
    summary, text = _report(tmp_path, cells)
    v = summary["verdict"]
    assert v["winner"] is None
    named = {(p["better"], p["worse"]) for p in v["significant_pairs"]}
    assert named == {("hyperband", "random"), ("bayesian", "random")}
    assert all(p["p_adjusted"] < 0.05 and p["metric"] == "test_accuracy"
               for p in v["significant_pairs"])  # fmt: skip
    assert "No significant difference" not in text
    assert "**hyperband** beats random by 2.0 rows" in v["text"]
    assert "**bayesian** beats random by 2.0 rows" in v["text"]


def test_one_row_of_noise_is_not_called_a_difference(tmp_path):
    rng = np.random.default_rng(5)
    cells = [
        synthetic_cell(t, s, (108 + s % 4 + int(rng.integers(-1, 2))) / 114, 10.0)
        for t in TUNERS for s in range(10)
    ]  # fmt: skip
    summary, text = _report(tmp_path, cells)
    assert summary["verdict"]["significant_pairs"] == []
    assert "No significant difference at 10 seeds" in text


def test_float32_and_float64_ties_give_exact_p_values_and_holm_on_references(tmp_path):
    # Five seeds tied with LogisticRegression, five one row above it: exact p = 2 / 2**5.
    import numpy as np32

    cells, references = [], []
    for s in range(10):
        rows = 108 + s % 3
        for t in TUNERS:
            cells.append(synthetic_cell(t, s, float(np32.float32(rows / 114)), 10.0))
        references.append(
            {"seed": s, "default_mlp": (rows - 5) / 114,
             "logistic_regression": (rows - (1 if s >= 5 else 0)) / 114}
        )  # fmt: skip
    summary, _ = _report(tmp_path, cells, references)
    vs = summary["references"]["logistic_regression"]["vs_tuners"]
    assert {t: vs[t]["p_value"] for t in TUNERS} == dict.fromkeys(TUNERS, 0.0625)
    family = [r for b in summary["references"].values() for r in b["vs_tuners"].values()]
    assert len(family) == 6 and all("p_adjusted" in r for r in family)
    mlp = summary["references"]["default_mlp"]["vs_tuners"]["random"]
    assert mlp["p_value"] == 2 / 2**10 and mlp["p_adjusted"] == pytest.approx(6 * 2 / 2**10)


def test_a_reference_better_than_the_tuners_is_named(tmp_path):
    cells = [synthetic_cell(t, s, (104 + s % 3) / 114, 10.0) for t in TUNERS for s in range(10)]
    references = [{"seed": s, "default_mlp": 0.5, "logistic_regression": (108 + s % 3) / 114}
                 for s in range(10)]  # fmt: skip
    summary, _ = _report(tmp_path, cells, references)
    better = {(p["better"], p["worse"]) for p in summary["verdict"]["significant_pairs"]}
    assert {("logistic_regression", t) for t in TUNERS} <= better
    assert (
        "**LogisticRegression** has higher test accuracy than random"
        in (summary["verdict"]["text"])
    )


def _cell_with_trials(tuner, seed, epochs_per_trial, score):
    cell = synthetic_cell(tuner, seed, 108 / 114, 10.0)
    cell["history"] = [
        {"trial_id": str(i), "status": "COMPLETED", "hyperparameters": {}, "val_accuracy": score,
         "epochs": e, "elapsed_s": float(i + 1)}
        for i, e in enumerate(epochs_per_trial)
    ]  # fmt: skip
    cell["epochs_trained"] = sum(epochs_per_trial)
    cell["trials_completed"] = len(epochs_per_trial)
    return cell


def test_equal_trials_give_equal_anytime_areas_and_curves_run_to_each_budget(tmp_path):
    plans = {"hyperband": [1] * 9 + [3] * 3 + [9], "bayesian": [9] * 3, "random": [9] * 3}
    cells = [_cell_with_trials(t, s, plans[t], 0.9) for t in TUNERS for s in range(6)]
    summary, _ = _report(tmp_path, cells)
    for axis in ("epochs", "seconds"):
        areas = {t: d["area"]["mean"] for t, d in summary["anytime"][axis]["per_tuner"].items()}
        assert areas == pytest.approx(dict.fromkeys(TUNERS, 0.9))
    per_tuner = summary["anytime"]["epochs"]["per_tuner"]
    assert per_tuner["hyperband"]["horizon"] == 27 and per_tuner["random"]["horizon"] == 27
    assert summary["anytime"]["epochs"]["start"] == 9  # random's first model
    median = np.array(per_tuner["hyperband"]["median"], dtype=float)
    drawn = median[~np.isnan(median)]
    assert len(drawn) and np.all(np.diff(drawn) >= 0)


def test_a_median_never_falls_when_seeds_start_at_different_times(tmp_path):
    cells = []
    for s in range(6):  # seed s's first model comes at time s + 1, scores rise with s
        cell = synthetic_cell("random", s, 108 / 114, 10.0)
        for i, h in enumerate(cell["history"]):
            h["elapsed_s"] = float(s + 1 + i)
            h["val_accuracy"] = 0.99 - 0.01 * s + 0.001 * i
        cells.append(cell)
    summary, _ = _report(tmp_path, cells)
    median = np.array(summary["anytime"]["seconds"]["per_tuner"]["random"]["median"], dtype=float)
    drawn = median[~np.isnan(median)]
    assert len(drawn) and np.all(np.diff(drawn) >= 0)


def test_failures_and_dropped_seeds_are_shown(tmp_path):
    cells = [synthetic_cell(t, s, 108 / 114, 10.0) for t in TUNERS for s in range(6)]
    failed = next(c for c in cells if (c["tuner"], c["seed"]) == ("random", 2))
    failed["history"][1].update(status="FAILED", val_accuracy=None, error="loss became nan")
    failed["trials_completed"], failed["trials_failed"] = 2, 1
    cells = [c for c in cells if (c["tuner"], c["seed"]) != ("hyperband", 4)]
    stopped = [{"tuner": "hyperband", "seed": 4, "profile": "smoke",
                "reason": "stopped, 3 failures in a row"}]  # fmt: skip
    summary, text = _report(tmp_path, cells, stopped=stopped)
    assert summary["seeds"] == [0, 1, 2, 3, 5]
    assert summary["failures"]["random"] == [
        {"seed": 2, "trial_id": "1", "error": "loss became nan"}
    ]
    assert summary["dropped_seeds"] == [
        {"seed": 4, "missing": ["hyperband"],
         "stopped": [{"tuner": "hyperband", "reason": "stopped, 3 failures in a row"}]}
    ]  # fmt: skip
    assert "random: 1 failed trial(s): loss became nan (seed 2 trial 1)" in text
    assert "Seed 4 is left out of every comparison: no record of hyperband" in text
    assert "only the 5 seed(s) every tuner completed" in text


def test_evidence_files_hold_every_cell_and_trial(shards, tmp_path):
    import csv

    out = tmp_path / "report"
    main(["report", *map(str, shards), "--out", str(out)])
    cells = list(csv.DictReader((out / "cells.csv").open()))
    trials = list(csv.DictReader((out / "trials.csv").open()))
    assert len(cells) == 30 and len(trials) == 90
    row = next(r for r in cells if (r["tuner"], r["seed"]) == ("bayesian", "3"))
    assert row["engine"] == "keras"  # these made-up records predate engines
    assert int(row["test_correct"]) == round(accuracies(3, "bayesian", 6) * 114)
    text = (out / "report.md").read_text()
    assert "## Per seed" in text and "## Provenance" in text
    assert "Trials trained by the keras engine" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["per_seed"]["3"]["bayesian"] == int(row["test_correct"])
    # fixed budgets get no interval
    assert "ci_low" not in summary["per_tuner"]["random"]["epochs_trained"]
    # Nemenyi's critical difference, k = 3 at alpha 0.05: q = 2.343 (Demšar 2006, table 5)
    cd = summary["friedman"]["critical_difference"]
    assert cd == pytest.approx(2.343 * (3 * 4 / (6 * 10)) ** 0.5, rel=1e-3)


def test_the_seed_reports_recommendation_is_tested_against_each_part_alone(tmp_path):
    # Hyperband then Bayesian: 3 rows above hyperband on every seed, tied with bayesian.
    cells = []
    for s in range(10):
        rows = 104 + s % 5
        cells += [
            synthetic_cell("hyperband", s, rows / 114, 10.0),
            synthetic_cell("bayesian", s, (rows + 3) / 114, 10.0),
            synthetic_cell("hyperband-bayesian", s, (rows + 3) / 114, 10.0),
        ]
    summary, text = _report(tmp_path, cells)
    rec = summary["recommendation"]
    by_part = {r["b"]: r for r in rec["comparisons"]}
    assert rec["parts"] == ["hyperband", "bayesian"]
    # Its own family of two: exact p = 2 / 2**10, Holm doubles the smaller one.
    assert by_part["hyperband"]["p_value"] == 2 / 2**10
    assert by_part["hyperband"]["p_adjusted"] == pytest.approx(2 * 2 / 2**10)
    assert by_part["hyperband"]["significant"] and by_part["hyperband"]["mean_difference_rows"] == 3
    assert by_part["bayesian"]["p_value"] == 1.0 and not by_part["bayesian"]["significant"]
    assert "it **beats** hyperband (+3.0 rows of 114 per seed" in rec["text"]
    assert "it is not told apart from bayesian (+0.0 rows" in rec["text"]
    assert "## The seed report's recommendation: Hyperband, then Bayesian" in text


def test_noise_around_the_recommendation_is_not_called_a_difference(tmp_path):
    rng = np.random.default_rng(11)
    cells = [
        synthetic_cell(t, s, (108 + s % 4 + int(rng.integers(-1, 2))) / 114, 10.0)
        for t in ("hyperband", "hyperband-bayesian") for s in range(10)
    ]  # fmt: skip
    summary, _ = _report(tmp_path, cells)
    assert [r["significant"] for r in summary["recommendation"]["comparisons"]] == [False]
    plain, _ = _report(tmp_path, [c for c in cells if c["tuner"] == "hyperband"] * 1, name="p")
    assert plain.get("recommendation") is None


# ---------------------------------------------------------------- the summary's shape


def _results(cells, references=()):
    from hpo.experiment.results import CellResult, Results

    return Results([CellResult.from_dict(c) for c in cells], list(references))


def test_budgets_come_from_the_caller_in_the_tuners_order():
    from hpo.analysis.summary import summarize

    results = _results([synthetic_cell(t, s, 108 / 114, 10.0) for t in TUNERS for s in range(3)])
    given = {"random": "r: 3 trials", "hyperband": "h: 6 trials", "unused": "x"}
    summary = summarize(results, budgets=given)
    assert list(summary.provenance["budgets"]) == ["hyperband", "random"]
    assert summarize(results).provenance["budgets"] is None  # not given: not said
    assert summarize(results, budgets={}).provenance["budgets"] is None
    text = report_of(summary).markdown({})
    assert "- budgets: hyperband: h: 6 trials; random: r: 3 trials" in text


def test_a_task_summary_is_typed_and_its_json_has_the_report_keys():
    from hpo.analysis.report import conclusions, main_table
    from hpo.analysis.summary import TaskSummary, summarize

    cells = [synthetic_cell(t, s, accuracies(s, t, 6), 10.0) for t in TUNERS for s in range(10)]
    summary = summarize(_results(cells))
    assert isinstance(summary, TaskSummary)
    assert summary.winner == "bayesian" == summary.verdict["winner"]
    data = summary.to_json()
    assert "kind" not in data and data["n_seeds"] == 10 and data["winner"] == "bayesian"
    assert data["friedman"]["metric"] == "test_accuracy"
    # Left out rather than null when there is nothing to say, as before.
    assert "per_seed_references" not in data and data["references"] is None
    assert "normalised_score_note" not in data and set(data["normalised_score"]) == set(TUNERS)
    assert main_table(summary).startswith("| tuner | best val acc (biased) |")
    assert conclusions(summary)[0] == summary.verdict["text"].replace("**", "")


def test_two_tuners_have_no_friedman_key():
    from hpo.analysis.summary import summarize

    cells = [synthetic_cell(t, s, 108 / 114, 10.0) for t in TUNERS[:2] for s in range(5)]
    assert "friedman" not in summarize(_results(cells)).to_json()


def test_the_analysis_never_imports_a_tuner_nor_tensorflow():
    """Statically, even inside functions: the report is made where no tuner is installed."""
    import ast
    from pathlib import Path

    import hpo.analysis

    forbidden = ("hpo.tuners", "hpo.run", "hpo.engines", "hpo.parallel", "tensorflow", "keras",
                 "keras_tuner")  # fmt: skip
    found = []
    for path in Path(hpo.analysis.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            found += [f"{path.name}: {n}" for n in names
                      if any(n == f or n.startswith(f + ".") for f in forbidden)]  # fmt: skip
    assert found == []


def test_a_report_is_written_with_tuners_and_tensorflow_unimportable(tmp_path, monkeypatch):
    from hpo.analysis.report import write_report

    for name in ("tensorflow", "keras", "keras_tuner", "hpo.tuners", "hpo.run"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it now fails
    cells = [synthetic_cell(t, s, accuracies(s, t, 6), 10.0) for t in TUNERS for s in range(5)]
    summary = write_report(_results(cells), tmp_path, budgets={"random": "3 trials"})
    assert summary.provenance["budgets"] == {"random": "3 trials"}
    assert (tmp_path / "report.md").stat().st_size > 0


def test_the_critical_difference_axis_spans_every_rank():
    """Demšar's convention: ranks 1..k, so a gap of 0.4 looks like 0.4 of k - 1."""
    import pandas as pd
    import scikit_posthocs as sp

    from hpo.analysis.report.figures import _pyplot, _span_all_ranks

    plt = _pyplot()
    ranks = {"a": 1.8, "b": 1.9, "c": 2.3}
    fig, ax = plt.subplots()
    same = pd.DataFrame(1.0, index=[*ranks], columns=[*ranks])  # Nemenyi p: no pair differs
    drawn = sp.critical_difference_diagram(ranks, same, ax=ax)
    _span_all_ranks(ax, drawn, 3)
    assert ax.get_xlim() == (1, 3) and list(ax.get_xticks()) == [1, 2, 3]
    ends = {round(label.get_position()[0], 6) for label in drawn["labels"]}
    assert ends == {round(1 - 0.06, 6), round(3 + 0.06, 6)}
    plt.close(fig)
