"""Statistics: bounds, symmetry, order invariance, no false difference, real shifts found."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from hpo import stats

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
def test_ci_matches_scipy_bootstrap_and_brackets_the_mean(x):
    low, high = stats.bootstrap_ci(x, seed=7)
    if np.ptp(x) > 0:
        ref = sps.bootstrap(
            (np.asarray(x),),
            np.mean,
            n_resamples=stats.BOOTSTRAP_RESAMPLES,
            method="percentile",
            rng=np.random.default_rng(7),
        ).confidence_interval
        assert (low, high) == (ref.low, ref.high)
    eps = 1e-12  # the mean of equal floats can differ from them in the last bit
    assert min(x) - eps <= low <= np.mean(x) + eps and np.mean(x) - eps <= high <= max(x) + eps


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
    assert stats.normalised_area(curve) == pytest.approx((0.8 * 4 + 0.9 * 2) / 8)


def test_normalised_scores():
    table = {"random": [0.9, 0.92], "good": [0.95, 0.96], "bad": [0.85, 0.9]}
    scores = stats.normalised_scores(table, "random")
    assert scores["good"] == 0.0 and scores["random"] == 1.0 and scores["bad"] > 1
