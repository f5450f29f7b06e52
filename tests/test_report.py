"""hpo report on small JSON files made here (synthetic inputs, never presented as measured)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hpo import stats
from hpo.cli import main
from hpo.results import write_json

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


def benchmark_json(cells: list[dict], baselines: list[dict] = ()) -> dict:
    benches = [{"name": f"test_search[{c['tuner']}-{c['seed']}]", "extra_info": {"cell": c}}
               for c in cells]  # fmt: skip
    benches += [{"name": "test_baselines", "extra_info": {"baseline": b}} for b in baselines]
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
        baselines = [{"seed": s, "default_mlp": 0.93, "logistic_regression": 0.96} for s in seeds]
        paths.append(write_json(tmp_path / f"shard{shard}.json", benchmark_json(cells, baselines)))
    return paths


def test_report_merges_shards_and_names_a_clear_winner(shards, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", *map(str, shards), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_seeds"] == 10 and summary["winner"] == "bayesian"
    for name in ("test_accuracy.png", "wall_time.png", "anytime.png", "report.md"):
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
    assert (d["ci_low"], d["ci_high"]) == pytest.approx(stats.bootstrap_ci(acc["random"]))
    assert d["mean"] == pytest.approx(np.mean(acc["random"]))
    pair = next(
        p for p in summary["pairs"]
        if (p["a"], p["b"], p["metric"]) == ("hyperband", "bayesian", "test_accuracy")
    )  # fmt: skip
    from scipy.stats import wilcoxon

    assert pair["p_value"] == pytest.approx(wilcoxon(acc["hyperband"], acc["bayesian"]).pvalue)
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
    assert "No significant difference in test accuracy at 6 seeds" in text
    assert "at least 7 seeds" in text


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
    cells = [synthetic_cell("random", 0, 0.9, 1.0), synthetic_cell("random", 1, 0.9, 1.0)]
    cells[1]["profile"] = "quick"
    path = write_json(tmp_path / "mixed.json", benchmark_json(cells))
    assert main(["report", str(path), "--out", str(tmp_path / "r")]) == 2
    assert "mix profiles" in capsys.readouterr().err
