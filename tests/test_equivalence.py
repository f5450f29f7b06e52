"""The smallest effect that matters: equivalence (TOST) and practical relevance, on made-up
per-seed data with known answers (never presented as measured).

Per-seed test rows are integers, as the report's tests take them; the default margin is one
test row of 114.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from hpo.analysis import stats
from hpo.analysis.paired import Pair, holm_in_place, in_shares, pair, practical_text
from hpo.cli import main
from hpo.experiment.results import CellResult, Results, write_json
from hpo.testing import made_up_record

N_TEST = 114


def judged(x: np.ndarray, y: np.ndarray, margin_rows: float = 1.0) -> Pair:
    """One pair of tuners' correct test rows (shape (n_seeds,)) as the report judges it."""
    row = pair("a", "b", "test_accuracy", x, y, margin=margin_rows)
    holm_in_place([row], stats.ALPHA)
    in_shares(row, N_TEST)
    return row


def base_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    """What the split gives both tuners on each seed: 95-109 correct rows of 114."""
    return rng.integers(95, 110, size=n)


def third_of_a_row(rng: np.random.Generator) -> np.ndarray:
    """1,000 seeds' differences in whole rows (-1 to 2, sd 1.0) averaging exactly 0.3 rows."""
    return rng.permutation(np.repeat([-1, 0, 1, 2], [250, 350, 250, 150]))


def text(p: Pair) -> str:
    return practical_text(p, "1 test row", stats.ALPHA)


# ---------------------------------------------------------------- known answers


def test_a_third_of_a_row_at_1000_seeds_is_significant_but_not_relevant():
    """The classic case: 0.3 rows is real at 1,000 seeds, and inside a margin of one row."""
    rng = np.random.default_rng(0)
    y = base_rows(rng, 1000)
    d = rng.choice([-1, 0, 1, 2], size=1000, p=[0.25, 0.35, 0.25, 0.15])  # mean 0.3 rows
    p = judged(y + d, y)
    assert p["mean_difference_rows"] == pytest.approx(0.3, abs=0.1)
    assert p["significant"] and p["p_adjusted"] < 1e-6
    assert p["relevant"] is False
    assert p["equivalent"] and p["tost_p_adjusted"] < 1e-6  # significant AND equivalent
    assert p["conclusion"] == "below_margin"
    assert "significant, but smaller than 1 test row: not practically relevant" in text(p)
    assert p["margin_rows"] == 1.0 and p["margin"] == pytest.approx(1 / N_TEST)


def test_identical_tuners_are_equivalent_not_nan():
    rng = np.random.default_rng(1)
    y = base_rows(rng, 1000)
    p = judged(y.copy(), y)
    assert p["tost_p_value"] == 0.0 and p["p_value"] == 1.0  # sd 0: no NaN
    assert p["equivalent"] and not p["significant"] and p["relevant"] is None
    assert p["conclusion"] == "equivalent"
    assert p["mean_difference_ci_rows"] == [0.0, 0.0]
    assert "a and b are equivalent within 1 test row (mean difference +0.00 rows" in text(p)


def test_three_rows_at_1000_seeds_are_different_and_relevant():
    rng = np.random.default_rng(2)
    y = base_rows(rng, 1000)
    p = judged(y + 3 + rng.integers(-2, 3, size=1000), y)
    assert p["significant"] and p["relevant"] is True
    assert not p["equivalent"] and p["tost_p_value"] > 0.5
    assert p["mean_difference_ci_rows"][0] > 1  # the whole interval beyond one row
    assert p["conclusion"] == "relevant"
    assert text(p).startswith("a > b by 3.")
    assert "different and relevant, by at least 1 test row" in text(p)


def test_ten_noisy_seeds_are_undecided():
    """Noise of 4 rows sd at 10 seeds: the difference test cannot tell, nor can TOST."""
    rng = np.random.default_rng(3)
    y = base_rows(rng, 10)
    p = judged(y + np.rint(rng.normal(0.5, 4.0, size=10)).astype(int), y)
    assert not p["significant"] and not p["equivalent"] and p["relevant"] is None
    low, high = p["mean_difference_ci_rows"]
    assert low < -1 or high > 1  # the interval reaches beyond the margin
    assert p["conclusion"] == "undecided"
    assert "undecided, neither shown different nor equivalent within 1 test row" in text(p)


def test_a_significant_difference_straddling_the_margin_is_not_called_either():
    """Significant, not equivalent, and the interval crosses the margin: the size is open."""
    rng = np.random.default_rng(4)
    y = base_rows(rng, 60)
    p = judged(y + 1 + rng.integers(-2, 3, size=60), y)  # 1 row on average, sd 1.4
    assert p["significant"] and not p["equivalent"] and p["relevant"] is False
    low, high = p["mean_difference_ci_rows"]
    assert low < 1 < high
    assert p["conclusion"] == "different"
    assert "significant, but not shown to reach 1 test row" in text(p)


def test_equivalence_is_holm_corrected_across_the_pairs():
    rows = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        y = base_rows(rng, 30)
        rows.append(pair("a", "b", "test_accuracy", y + rng.integers(-1, 2, size=30), y, 1.0))
    holm_in_place(rows, stats.ALPHA)
    raw = [r["tost_p_value"] for r in rows]
    assert [r["tost_p_adjusted"] for r in rows] == pytest.approx(stats.holm(raw))
    assert min(r["tost_p_adjusted"] for r in rows) == pytest.approx(min(1.0, 3 * min(raw)))


# ---------------------------------------------------------------- the test itself


def test_tost_is_two_one_sided_t_tests_and_their_interval():
    """statsmodels' TOST against scipy's one-sided t-tests, and the interval it implies:
    p < alpha exactly when the (1 - 2 alpha) t-interval lies inside the margin."""
    rng = np.random.default_rng(5)
    for n in (5, 12, 40):
        for _ in range(20):
            x = rng.integers(100, 110, size=n)
            d = rng.integers(-2, 3, size=n)
            p = stats.tost_p(x + d, x, 1.0)
            lower = sps.ttest_1samp(d, -1.0, alternative="greater").pvalue
            upper = sps.ttest_1samp(d, 1.0, alternative="less").pvalue
            assert p == pytest.approx(max(lower, upper), rel=1e-9)
            low, high = stats.t_interval(d, 1 - 2 * stats.ALPHA)
            assert (p < stats.ALPHA) == (low > -1.0 and high < 1.0)


def test_constant_differences_and_one_seed():
    assert stats.tost_p([3, 4], [3, 4], 1.0) == 0.0
    assert stats.tost_p([4, 5, 6], [3, 4, 5], 1.0) == 1.0  # exactly one row: not within
    assert stats.tost_p([4, 5, 6], [3, 4, 5], 1.5) == 0.0
    assert stats.tost_p([4], [3], 2.0) == 1.0  # one seed shows nothing
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            stats.tost_p([1, 2], [1, 2], bad)


def test_equivalence_is_declared_at_most_5_percent_of_the_time_at_the_margin():
    """The level TOST promises: with the true difference exactly one row (binomial test rows
    of two tuners, p 0.9 and 0.9 + 1/114), 400 made-up runs of 200 seeds each. The level is
    5 %; 8 % is 2.7 binomial sd (1.1 %) above it. At a true difference of 0 the same runs
    must find equivalence most of the time, or a test that never declares it would pass."""
    rng = np.random.default_rng(6)
    runs, seeds = 400, 200

    def rate(shift_rows: float) -> float:
        a = rng.binomial(N_TEST, 0.9 + shift_rows / N_TEST, size=(runs, seeds))
        b = rng.binomial(N_TEST, 0.9, size=(runs, seeds))
        return float(
            np.mean([stats.tost_p(x, y, 1.0) < stats.ALPHA for x, y in zip(a, b, strict=True)])
        )

    at_margin, at_zero = rate(1.0), rate(0.0)
    print(f"equivalence declared: {at_margin:.1%} at the margin, {at_zero:.1%} at 0")
    assert at_margin <= 0.08
    assert at_zero >= 0.7


def test_the_level_holds_roughly_on_whole_rows_at_20_seeds():
    """Differences of whole rows (1 +- 1, sd 0.7) at 20 seeds: the t-test's discreteness
    costs a little (6.7 % in 2,000 runs while this was written); 400 runs, at most 10 %."""
    rng = np.random.default_rng(7)
    d = 1 + rng.choice([-1, 0, 1], size=(400, 20), p=[0.25, 0.5, 0.25])
    rate = float(np.mean([stats.tost_p(x, np.zeros(20), 1.0) < stats.ALPHA for x in d]))
    assert rate <= 0.10


# ---------------------------------------------------------------- the report


def records(shifts: dict[str, np.ndarray], seeds: int, rng_seed: int = 0) -> list[dict]:
    """Records of tuners whose correct test rows are a shared base plus each one's shift."""
    base = base_rows(np.random.default_rng(rng_seed), seeds)
    return [
        made_up_record(tuner=t, seed=s, test_accuracy=float(base[s] + d[s]) / N_TEST)
        for t, d in shifts.items()
        for s in range(seeds)
    ]


def _report(tmp_path, cells: list[dict], *flags: str) -> tuple[dict, str, int]:
    paths = [write_json(tmp_path / "in.json", {"benchmarks": [
        {"name": "x", "extra_info": {"cell": c}} for c in cells]})]  # fmt: skip
    out = tmp_path / "r"
    code = main(["report", *map(str, paths), "--out", str(out), *flags])
    if code:
        return {}, "", code
    return json.loads((out / "summary.json").read_text()), (out / "report.md").read_text(), code


def test_the_report_says_significant_but_below_one_row(tmp_path, capsys):
    d = third_of_a_row(np.random.default_rng(8))
    cells = records({"random": np.zeros(1000, int), "tpe": d}, 1000)
    summary, md, _ = _report(tmp_path, cells)
    printed = capsys.readouterr().out
    assert summary["smallest_effect"] == {
        "value": 1.0, "unit": "test rows", "score_units": 1 / N_TEST,
        "text": "1 test row (0.88 %)",
    }  # fmt: skip
    (p,) = [p for p in summary["pairs"] if p["metric"] == "test_accuracy"]
    assert p["significant"] and p["equivalent"] and p["relevant"] is False
    for key in ("p_value", "p_adjusted", "mean_difference", "seeds_needed"):  # as before
        assert key in p
    said = (
        "Smallest effect that matters: 1 test row (0.88 %); equivalence by two one-sided"
        " paired t-tests (TOST), Holm-corrected across pairs. Test accuracy per pair: tpe >"
        " random by 0.30 rows: significant, but smaller than 1 test row: not practically"
        " relevant (equivalent within it, TOST p_adj 0.000)."
    )
    for where in (summary["verdict"]["text"], md, printed):
        assert said in where
    assert "| different, but below the margin |" in md
    time_pair = next(p for p in summary["pairs"] if p["metric"] == "wall_time_s")
    assert "conclusion" not in time_pair and "margin" not in time_pair


def test_a_smaller_margin_makes_the_same_difference_relevant(tmp_path):
    d = third_of_a_row(np.random.default_rng(8))
    cells = records({"random": np.zeros(1000, int), "tpe": d}, 1000)
    summary, _, _ = _report(tmp_path, cells, "--smallest-effect", "0.2")
    (p,) = [p for p in summary["pairs"] if p["metric"] == "test_accuracy"]
    assert p["margin_rows"] == 0.2 and p["conclusion"] == "relevant"
    assert "Smallest effect that matters: 0.2 test rows (0.18 %)" in summary["verdict"]["text"]


def test_identical_tuners_in_a_report_are_equivalent(tmp_path):
    cells = records({"random": np.zeros(5, int), "tpe": np.zeros(5, int)}, 5)
    summary, md, _ = _report(tmp_path, cells)
    (p,) = [p for p in summary["pairs"] if p["metric"] == "test_accuracy"]
    assert p["tost_p_adjusted"] == 0.0 and p["equivalent"] and p["conclusion"] == "equivalent"
    assert "random and tpe are equivalent within 1 test row" in md


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "abc", ""])
def test_a_bad_smallest_effect_is_one_line_and_exit_2(tmp_path, capsys, value):
    cells = records({"random": np.zeros(3, int)}, 3)
    with pytest.raises(SystemExit) as exc:
        _report(tmp_path, cells, "--smallest-effect", value)
    assert exc.value.code == 2
    err = [line for line in capsys.readouterr().err.splitlines()
           if line and not line.startswith(("usage:", " "))]  # fmt: skip
    assert err == [
        f"hpo: error: argument --smallest-effect: must be a positive number, got {value!r}"
    ]
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------- the suite


def suite_cell(task: str, tuner: str, seed: int, score: float) -> CellResult:
    """A wine record (score: correct rows of 36) or a diabetes one (score: R²)."""
    if task == "diabetes":
        fields = {"test_accuracy": None, "best_val_accuracy": None, "test_r2": score, "n_test": 89}
    else:
        fields = {"test_accuracy": score / 36, "n_test": 36}
    return CellResult.from_dict(made_up_record(task=task, tuner=tuner, seed=seed, **fields))


def test_the_suite_judges_each_task_in_its_own_units():
    from hpo.analysis.summary import summarize

    rng = np.random.default_rng(9)
    cells = []
    for s in range(40):
        rows, r2 = int(rng.integers(28, 34)), 0.4 + 0.01 * (s % 4)
        cells += [suite_cell("wine", "a", s, rows + 3), suite_cell("wine", "b", s, rows)]
        noise = float(rng.normal(0, 0.002))
        cells += [suite_cell("diabetes", "a", s, r2 + noise), suite_cell("diabetes", "b", s, r2)]
    summary = summarize(Results(cells))
    wine, diabetes = summary.per_task["wine"], summary.per_task["diabetes"]
    assert wine["smallest_effect"]["text"] == "1 test row (2.78 %)"
    assert diabetes["smallest_effect"]["text"] == "0.01 in R²"
    assert wine["pairs"][0]["conclusion"] == "relevant"
    assert diabetes["pairs"][0]["conclusion"] == "equivalent"
    assert diabetes["pairs"][0]["margin"] == 0.01 and "margin_rows" not in diabetes["pairs"][0]
    assert "a and b are equivalent within 0.01 in R²" in summary.verdict
    assert "a > b by 3.00 rows" in summary.verdict
    with pytest.raises(Exception, match="test rows on wine, R² on diabetes"):
        summarize(Results(cells), smallest_effect=2.0)
    one = summarize(Results([c for c in cells if c.task == "diabetes"]), smallest_effect=1e-4)
    assert one.per_task["diabetes"]["pairs"][0]["conclusion"] != "equivalent"
