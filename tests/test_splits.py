"""Two reports of the same tuners on two splits: known answers on made-up summaries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hpo.analysis.splits import split_sensitivity, split_sensitivity_text
from hpo.errors import HpoError
from tests.helpers import error_lines

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "split_sensitivity.py"


def _summary(means: dict[str, float], conclusions: dict[tuple[str, str], str]) -> dict[str, Any]:
    """A summary.json with only what the comparison reads: means and each pair's verdict."""
    return {
        "per_tuner": {t: {"test_accuracy": {"mean": m}} for t, m in means.items()},
        "pairs": [
            {
                "a": a,
                "b": b,
                "metric": "test_accuracy",
                "conclusion": c,
                "mean_difference": means[a] - means[b],
            }
            for (a, b), c in conclusions.items()
        ],
    }


MEANS = {"bohb": 0.66, "random": 0.62, "tpe": 0.64}
PAIRS = {
    ("bohb", "random"): "relevant",
    ("bohb", "tpe"): "relevant",
    ("random", "tpe"): "equivalent",
}


def test_the_same_report_twice_changes_nothing_and_ranks_alike() -> None:
    said = split_sensitivity(_summary(MEANS, PAIRS), _summary(MEANS, PAIRS))
    assert said.kendall_tau == pytest.approx(1.0) and said.changed == 0
    assert said.first_ranking == said.second_ranking == ("bohb", "tpe", "random")


def test_a_reversed_ranking_is_tau_minus_one_and_every_found_difference_flips() -> None:
    reversed_means = {"bohb": 0.62, "random": 0.66, "tpe": 0.64}
    said = split_sensitivity(_summary(MEANS, PAIRS), _summary(reversed_means, PAIRS))
    assert said.kendall_tau == pytest.approx(-1.0)
    changed = {(p.a, p.b) for p in said.pairs if p.changed}
    # random - tpe: equivalent on both splits, whatever the sign of its tiny difference.
    assert changed == {("bohb", "random"), ("bohb", "tpe")}


def test_a_conclusion_that_moves_is_counted_and_a_pair_named_the_other_way_round_matches() -> None:
    second = _summary(MEANS, {**PAIRS, ("random", "tpe"): "undecided"})
    second["pairs"][0] = {**second["pairs"][0], "a": "random", "b": "bohb",
                          "mean_difference": -second["pairs"][0]["mean_difference"]}  # fmt: skip
    said = split_sensitivity(_summary(MEANS, PAIRS), second)
    assert said.changed == 1
    [moved] = [p for p in said.pairs if p.changed]
    assert (moved.a, moved.b, moved.first, moved.second) == (
        "random", "tpe", "equivalent", "undecided"
    )  # fmt: skip
    bohb_random = next(p for p in said.pairs if (p.a, p.b) == ("bohb", "random"))
    assert bohb_random.second_difference == pytest.approx(0.04)
    text = split_sensitivity_text(said, ("split 0", "split 1"))
    assert "pairs whose verdict changed: 1 of 3" in text[2]
    assert any("random - tpe: equivalent within the margin" in line and "CHANGED" in line
               for line in text)  # fmt: skip


@pytest.mark.parametrize(
    ("second", "said"),
    [
        (_summary({"bohb": 0.6, "random": 0.6}, {("bohb", "random"): "equivalent"}),
         "the reports compare different tuners"),
        ({"pairs": [], "per_tuner": {}}, "the second report's summary has no pairs"),
        (_summary(MEANS, {("bohb", "random"): "relevant"}), "has no pair bohb - tpe"),
        ({**_summary(MEANS, PAIRS), "pairs": [{"metric": "test_accuracy", "conclusion": "x"}]},
         "a report's pair lacks a usable 'a'"),
    ],
)  # fmt: skip
def test_reports_that_cannot_be_compared_are_one_line(second, said) -> None:
    with pytest.raises(HpoError, match=said):
        split_sensitivity(_summary(MEANS, PAIRS), second)


def test_the_script_reads_report_folders_and_exits_2_on_a_missing_one(tmp_path) -> None:
    for name, means in (("a", MEANS), ("b", {"bohb": 0.65, "random": 0.64, "tpe": 0.62})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(_summary(means, PAIRS)))
    run = [sys.executable, str(SCRIPT)]
    done = subprocess.run([*run, "a", "b"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "a: bohb, tpe, random; b: bohb, random, tpe" in done.stdout
    assert "Kendall's tau between the rankings: 0.333" in done.stdout
    missing = subprocess.run([*run, "a", "nope"], cwd=tmp_path, capture_output=True, text=True)
    assert missing.returncode == 2 and len(error_lines(missing.stderr)) == 1
    assert "nope: no such file" in missing.stderr
