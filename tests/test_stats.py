"""Statistics: bounds, symmetry, order invariance, no false difference, real shifts found."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from hpo.analysis import stats

ACC = st.integers(90, 114).map(lambda k: k / 114)  # accuracies on 114 test rows
# With ties, scipy's exact Wilcoxon enumerates 2**n sign flips (about a second a call):
# a few examples per property are enough.
WILCOXON = settings(max_examples=15)
SAMPLES = st.lists(ACC, min_size=2, max_size=12)


@st.composite
def paired(draw, min_size=2, max_size=12):
    n = draw(st.integers(min_size, max_size))
    a = draw(st.lists(ACC, min_size=n, max_size=n))
    b = draw(st.lists(ACC, min_size=n, max_size=n))
    return a, b


@settings(max_examples=25, deadline=None)
@given(SAMPLES)
def test_t_interval_is_scipys_and_brackets_the_mean(x):
    low, high = stats.t_interval(x)
    if np.ptp(x) > 0:
        ref = sps.ttest_1samp(x, 0).confidence_interval(0.95)
        assert (low, high) == pytest.approx((ref.low, ref.high))
    eps = 1e-12  # the mean of equal floats can differ from them in the last bit
    assert low <= np.mean(x) + eps and np.mean(x) - eps <= high


def _accuracies_like_ours(rng, reps, n, mean=0.965, concentration=150, rows=114):
    """Per seed, the split sets a true accuracy (Beta: sd ~1.5 %), the test rows a binomial."""
    p = rng.beta(mean * concentration, (1 - mean) * concentration, size=(reps, n))
    return rng.binomial(rows, p) / rows


@pytest.mark.parametrize("n", [5, 10])
def test_t_interval_covers_the_mean_95_percent_of_the_time_at_few_seeds(n):
    # The promised level, by simulation: binomial accuracies on 114 rows, as in our records.
    rng = np.random.default_rng(2026)
    draws = _accuracies_like_ours(rng, 20_000, n)
    covered = [low <= 0.965 <= high for low, high in map(stats.t_interval, draws)]
    assert np.mean(covered) >= 0.93


def test_accuracies_become_counts_and_float32_ties_stay_ties():
    acc32 = np.float32(109 / 114)  # Keras
    acc64 = 109 / 114  # scikit-learn
    assert float(acc32) != acc64
    assert stats.correct_rows([acc32, acc64], 114).tolist() == [109, 109]
    with pytest.raises(ValueError, match="multiples"):
        stats.correct_rows([0.5001], 114)


def test_exact_ties_give_the_exact_p_value():
    # Five seeds tied, five one row better: two-sided exact Wilcoxon over the five = 2 / 2**5.
    tuner = np.array([109, 110, 108, 111, 109, 110, 109, 108, 111, 110], dtype=np.float32) / 114
    reference = tuner.astype(float)
    reference[5:] = (np.rint(tuner[5:] * 114) - 1) / 114  # float64, as scikit-learn gives
    rows = stats.correct_rows(tuner, 114), stats.correct_rows(reference, 114)
    assert stats.wilcoxon_p(*rows) == 0.0625


@WILCOXON
@given(paired())
def test_p_value_matches_scipy_wilcoxon(ab):
    a, b = ab
    d = np.subtract(a, b)
    p = stats.wilcoxon_p(a, b)
    if np.all(d == 0):
        assert p == 1.0
    else:
        assert p == sps.wilcoxon(a, b, zero_method="wilcox").pvalue
    assert 0 <= p <= 1


@WILCOXON
@given(paired(), st.randoms(use_true_random=False))
def test_paired_statistics_do_not_depend_on_seed_order(ab, rnd):
    a, b = ab
    order = list(range(len(a)))
    rnd.shuffle(order)
    a2, b2 = [a[i] for i in order], [b[i] for i in order]
    assert stats.wilcoxon_p(a, b) == pytest.approx(stats.wilcoxon_p(a2, b2))
    assert stats.a12(a, b) == pytest.approx(stats.a12(a2, b2))


@WILCOXON
@given(paired())
def test_a12_is_bounded_and_antisymmetric(ab):
    a, b = ab
    assert 0 <= stats.a12(a, b) <= 1
    assert stats.a12(a, b) + stats.a12(b, a) == pytest.approx(1)
    assert stats.wilcoxon_p(a, b) == pytest.approx(stats.wilcoxon_p(b, a))


@WILCOXON
@given(SAMPLES)
def test_identical_samples_show_no_difference(x):
    assert stats.wilcoxon_p(x, x) == 1.0
    assert stats.a12(x, x) == 0.5
    assert stats.seeds_needed(np.zeros(len(x))) is None


@settings(max_examples=5)
@given(st.lists(st.floats(0.85, 0.9), min_size=10, max_size=12, unique=True))
def test_a_large_shift_is_detected(x):
    better = np.add(x, 0.05)
    assert stats.wilcoxon_p(better, x) < 0.01
    assert stats.a12(better, x) > 0.9
    assert stats.holm([stats.wilcoxon_p(better, x)] * 3)[0] < stats.ALPHA


def test_smallest_reachable_p_values():
    assert stats.min_wilcoxon_p(5) == 0.0625
    assert stats.min_wilcoxon_p(6) == 0.03125
    assert 3 * stats.min_wilcoxon_p(6) == pytest.approx(0.09375)
    assert stats.min_seeds_for_any_verdict(1) == 6
    assert stats.min_seeds_for_any_verdict(3) == 7
    # scipy agrees: n pairs all in one direction give the floor.
    assert sps.wilcoxon(np.arange(1, 7), np.zeros(6)).pvalue == pytest.approx(0.03125)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_holm_is_monotone_and_at_least_the_raw_p(p):
    adjusted = stats.holm(p)
    assert all(a >= raw - 1e-15 for a, raw in zip(adjusted, p, strict=True))
    assert all(a <= 1 for a in adjusted)
    order = np.argsort(p, kind="stable")
    ranked = [adjusted[i] for i in order]
    assert ranked == sorted(ranked)


def test_holm_known_values():
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


@given(st.floats(0.5, 3.0))
def test_seeds_needed_shrinks_as_the_effect_grows(scale):
    d_small = np.array([0.01, -0.005, 0.02, 0.0, 0.015, -0.01])
    n_small = stats.seeds_needed(d_small)
    n_large = stats.seeds_needed(d_small + scale * 0.01)
    assert n_small is not None and n_large is not None and n_large <= n_small


def test_seeds_for_effect_matches_a_textbook_value():
    # Paired t, d = 0.5, alpha 0.05 two-sided, 80 % power: n = 34 (Cohen's tables),
    # times pi / 3 for Wilcoxon's worst relative efficiency.
    assert stats.seeds_for_effect(0.5) == math.ceil(34 * math.pi / 3)
    assert stats.seeds_for_effect(0.0) is None
    assert stats.seeds_for_effect(math.inf) == stats.min_seeds_for_any_verdict(1)


def test_seeds_needed_is_a_range_that_holds_the_truth():
    # A true 0.4-SD effect seen at 10 seeds: the point estimate alone is a lottery; the
    # 10-90 % range of the estimate should hold the true requirement most of the time.
    truth = stats.seeds_for_effect(0.4)
    rng = np.random.default_rng(11)
    held = []
    for _ in range(40):
        low, mid, high = stats.seeds_needed_range(rng.normal(0.4, 1.0, 10), resamples=400)
        top = math.inf if high is None else high
        assert low is not None and low <= (mid or math.inf) <= top
        held.append(low <= truth <= top)
    assert np.mean(held) >= 0.6
    assert stats.seeds_needed_range(np.zeros(10)) is None


def test_seeds_needed_range_survives_resamples_of_ties():
    # Found in a real paper run: mostly tied seeds, so many resamples are all zeros.
    d = np.array([0, 0, 0, 1, 1, 0, 1, 0, 0, 0])
    low, mid, high = stats.seeds_needed_range(d, n_comparisons=3)
    assert low is not None and mid is not None
    assert low <= mid <= (high if high is not None else math.inf)
    assert low <= stats.seeds_needed(d, n_comparisons=3) <= (high or math.inf)


def test_friedman_and_ranks():
    table = {"a": [0.9, 0.92, 0.95, 0.91], "b": [0.8, 0.85, 0.9, 0.86], "c": [0.7] * 4}
    assert stats.average_ranks(table) == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert stats.friedman_p(table) == pytest.approx(sps.friedmanchisquare(*table.values()).pvalue)
    assert stats.friedman_p({"a": [1, 2], "b": [1, 2], "c": [1, 2]}) == 1.0
    with pytest.raises(ValueError, match="three"):
        stats.friedman_p({"a": [1], "b": [2]})


def test_best_so_far_is_a_running_max_on_the_grid():
    curve = stats.best_so_far([2, 4, 6], [0.8, None, 0.9], grid=[0, 1, 2, 3, 4, 5, 6, 7])
    np.testing.assert_array_equal(curve[:2], [np.nan, np.nan])
    assert curve[2:].tolist() == [0.8, 0.8, 0.8, 0.8, 0.9, 0.9]


def test_step_area_is_the_exact_mean_of_the_step_curve():
    # 0.8 from 2 to 6, 0.9 from 6 to 8: over [2, 8] the mean is (0.8 * 4 + 0.9 * 2) / 6.
    assert stats.step_area([2, 4, 6], [0.8, None, 0.9], 2, 8) == pytest.approx(
        (0.8 * 4 + 0.9 * 2) / 6
    )
    assert math.isnan(stats.step_area([2, 4], [0.8, 0.9], 1, 8))  # no model at the start
    assert stats.first_model_at([2, 4], [None, 0.7]) == 4
    assert stats.first_model_at([2], [None]) == math.inf


@given(st.floats(0.5, 1.0), st.integers(1, 30), st.integers(1, 30))
def test_equal_scores_give_equal_areas_whatever_the_budgets(score, short, long):
    many_short = np.cumsum([1] * short)  # Hyperband-like: many 1-epoch trials
    few_long = np.cumsum([long] * 3)  # random-like: a few long ones
    start = max(many_short[0], few_long[0])
    a = stats.step_area(many_short, [score] * short, start, max(start + 1, many_short[-1]))
    b = stats.step_area(few_long, [score] * 3, start, max(start + 1, few_long[-1]))
    assert a == pytest.approx(score) and b == pytest.approx(score)


def test_normalised_scores():
    table = {"random": [0.9, 0.92], "good": [0.95, 0.96], "bad": [0.85, 0.9]}
    scores = stats.normalised_scores(table, "random")
    assert scores["good"] == 0.0 and scores["random"] == 1.0 and scores["bad"] > 1
