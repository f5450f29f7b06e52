"""Small pure statistics over per-seed results. Arrays are 1-D, one value per seed.

Paired tests pair two tuners' values by seed: runs with the same seed share
the data split and the first random draws, so their difference removes most
of the split-to-split noise.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

ALPHA = 0.05
POWER = 0.8
MAX_SEEDS_ESTIMATE = 100_000
ANYTIME_POINTS = 200  # grid points of an anytime (best-so-far) curve


def correct_rows(accuracies: ArrayLike, n: int) -> np.ndarray:
    """Accuracies on n rows as counts of correct rows, shape (k,) -> (k,) int.

    Keras reports accuracy in float32 and scikit-learn in float64, so the same
    count of correct rows can differ by ~1e-8 between them; tests on counts see
    ties as ties.
    """
    a = np.asarray(accuracies, dtype=float)
    counts = np.rint(a * n)
    if np.any(np.abs(a * n - counts) > 1e-3):
        raise ValueError(f"accuracies are not multiples of 1/{n}: {a.tolist()}")
    return counts.astype(int)


def t_interval(values: ArrayLike, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean, shape (n,) -> (low, high).

    Holds its level at small n on binomial accuracies like ours (simulated in
    tests/test_stats.py), which the percentile bootstrap did not. A constant sample
    has the degenerate interval (v, v); fewer than two values have none (nan).
    """
    x = np.asarray(values, dtype=float)
    if len(x) and np.ptp(x) == 0:
        return (float(x[0]), float(x[0]))
    if len(x) < 2:
        return (math.nan, math.nan)
    low, high = stats.t.interval(confidence, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    return (float(low), float(high))


def describe(
    values: ArrayLike, bounds: tuple[float, float] = (-math.inf, math.inf)
) -> dict[str, float]:
    """mean, median, 95 % t-interval of the mean (clipped to the values' `bounds`), n.

    Clipping keeps the interval's coverage (the mean lies within the bounds) and
    stops a skewed sample, such as test losses with one overconfident model,
    from reporting a negative loss.
    """
    x = np.asarray(values, dtype=float)
    low, high = t_interval(x)
    if len(x) > 1:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return {
        "mean": float(np.mean(x)) if len(x) else math.nan,
        "median": float(np.median(x)) if len(x) else math.nan,
        "ci_low": low,
        "ci_high": high,
        "n": int(len(x)),
    }


def describe_fixed(values: ArrayLike) -> dict[str, float]:
    """mean, min, max, n: for quantities a budget fixes (no interval: there is no sampling)."""
    x = np.asarray(values, dtype=float)
    return {
        "mean": float(np.mean(x)) if len(x) else math.nan,
        "min": float(np.min(x)) if len(x) else math.nan,
        "max": float(np.max(x)) if len(x) else math.nan,
        "n": int(len(x)),
    }


def wilcoxon_p(a: ArrayLike, b: ArrayLike) -> float:
    """Two-sided paired Wilcoxon signed-rank p-value (scipy; exact where ties allow).

    Zero differences are dropped (Wilcoxon's method); all-zero differences give 1.0.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) == 0 or np.all(d == 0):
        return 1.0
    return float(stats.wilcoxon(a, b, zero_method="wilcox", method="auto").pvalue)


def tost_p(a: ArrayLike, b: ArrayLike, margin: float) -> float:
    """Paired TOST p-value of equivalence: H0 |mean(a - b)| >= margin, H1 |mean| < margin.

    Two one-sided paired t-tests; p is the larger of the two (statsmodels' `ttost_paired`).
    The t-based TOST, not a Wilcoxon one: the margin bounds the mean difference, and
    p < alpha exactly when the (1 - 2 alpha) t-interval of the mean (`t_interval`) lies
    inside (-margin, margin), so equivalence agrees with the interval the report prints,
    where a signed-rank TOST would test the pseudo-median of differences in whole rows.
    Differences all equal (sd 0) are the t-test's limit: p 0 if that difference lies
    inside the margin, else 1; fewer than two pairs give 1 (nothing is shown).
    """
    from statsmodels.stats.weightstats import ttost_paired  # lazily: the gate needs no TOST

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = x - y
    if not (margin > 0 and math.isfinite(margin)):
        raise ValueError(f"the equivalence margin must be positive and finite, got {margin}")
    if len(d) < 2:
        return 1.0
    if np.ptp(d) == 0:
        return 0.0 if abs(float(d[0])) < margin else 1.0
    p = float(ttost_paired(x, y, -margin, margin)[0])
    return 1.0 if math.isnan(p) else p


def a12(a: ArrayLike, b: ArrayLike) -> float:
    """Vargha-Delaney A12: P(A > B) + P(A = B) / 2 over all pairs; 0.5 means no effect."""
    x = np.asarray(a, dtype=float)[:, None]
    y = np.asarray(b, dtype=float)[None, :]
    if x.size == 0 or y.size == 0:
        return math.nan
    return float(np.mean(x > y) + 0.5 * np.mean(x == y))


def holm(pvalues: ArrayLike) -> list[float]:
    """Holm's step-down adjustment (scipy has Bonferroni-type FDR only, not Holm)."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def min_wilcoxon_p(n: int) -> float:
    """Smallest two-sided exact Wilcoxon p-value n pairs can give: 2 / 2**n."""
    return min(1.0, 2.0 / 2**n) if n > 0 else 1.0


def min_seeds_for_any_verdict(n_comparisons: int, alpha: float = ALPHA) -> int:
    """Fewest paired seeds whose smallest Holm-adjusted p-value is below alpha."""
    n = 1
    while n_comparisons * min_wilcoxon_p(n) >= alpha:
        n += 1
    return n


def seeds_for_effect(
    effect: float,
    n_comparisons: int = 1,
    alpha: float = ALPHA,
    power: float = POWER,
    max_n: int = MAX_SEEDS_ESTIMATE,
) -> int | None:
    """Seeds a paired test needs to detect a standardised mean difference `effect`.

    The paired t-test's power (noncentral t) at alpha / n_comparisons (the
    first Holm step), inflated by 3/pi, Wilcoxon's worst asymptotic relative
    efficiency against t for normal data; never fewer than the exact Wilcoxon
    floor. None when more than `max_n` would be needed (or the effect is 0).
    """
    effect = abs(effect)
    floor = min_seeds_for_any_verdict(n_comparisons, alpha)
    if math.isinf(effect):
        return floor
    if effect == 0 or math.isnan(effect):
        return None
    level = alpha / n_comparisons

    def achieved(n: int) -> float:
        df, nc = n - 1, effect * math.sqrt(n)
        if nc > 40:  # power is 1 to double precision; scipy's nct is unreliable out there
            return 1.0
        crit = stats.t.ppf(1 - level / 2, df)
        return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))

    high = 2  # power grows with n: double until it is reached, then bisect
    while achieved(high) < power:
        if high >= max_n:
            return None
        high = min(2 * high, max_n)
    low = max(2, high // 2)
    while low < high:
        mid = (low + high) // 2
        if achieved(mid) >= power:
            high = mid
        else:
            low = mid + 1
    return max(math.ceil(low * math.pi / 3), floor)


def seeds_needed(
    differences: ArrayLike, n_comparisons: int = 1, alpha: float = ALPHA
) -> int | None:
    """`seeds_for_effect` at the observed effect (mean / sd of the paired differences)."""
    d = np.asarray(differences, dtype=float)
    if len(d) < 2 or np.mean(d) == 0:
        return None
    sd = np.std(d, ddof=1)
    return seeds_for_effect(math.inf if sd == 0 else np.mean(d) / sd, n_comparisons, alpha)


def seeds_needed_range(
    differences: ArrayLike,
    n_comparisons: int = 1,
    alpha: float = ALPHA,
    quantiles: tuple[float, float, float] = (0.1, 0.5, 0.9),
    resamples: int = 2000,
    seed: int = 0,
) -> list[int | None] | None:
    """Quantiles of the seeds-needed estimate over a bootstrap of the paired differences.

    The estimate plugs in an observed effect, which is itself noisy at a few
    seeds: resampling the seeds gives the spread of the effect, and seeds needed
    is a decreasing function of the effect, so its quantiles are the function's
    values at the effect's opposite quantiles. Effects are signed in the
    observed direction, so the median estimate is close to `seeds_needed`.
    Returns [low, mid, high] for `quantiles` (None: more than MAX_SEEDS_ESTIMATE,
    or a resampled effect reversed), or None when the mean difference is 0.
    """
    d = np.asarray(differences, dtype=float)
    if len(d) < 2 or np.mean(d) == 0:
        return None
    rng = np.random.default_rng(seed)
    samples = d[rng.integers(0, len(d), size=(resamples, len(d)))] * np.sign(np.mean(d))
    means, sds = samples.mean(axis=1), samples.std(axis=1, ddof=1)
    # sd 0: the sign of the mean decides (+inf, -inf, or 0 for a resample of zeros)
    with np.errstate(divide="ignore", invalid="ignore"):
        effects = np.where(sds > 0, means / sds, np.where(means == 0, 0.0, np.sign(means) * np.inf))
    # An effect at or below 0 (the resample reverses the difference) needs "never": None.
    return [
        seeds_for_effect(e, n_comparisons, alpha) if e > 0 else None
        for e in (float(np.quantile(effects, 1 - q, method="inverted_cdf")) for q in quantiles)
    ]


def average_ranks(table: Mapping[str, ArrayLike], higher_is_better: bool = True) -> dict:
    """Mean rank per tuner over seeds (1 = best; ties share ranks). table: tuner -> (n,)."""
    names = list(table)
    matrix = np.array([table[k] for k in names], dtype=float)  # (tuners, seeds)
    ranks = stats.rankdata(-matrix if higher_is_better else matrix, axis=0)
    return {name: float(r) for name, r in zip(names, ranks.mean(axis=1), strict=True)}


def friedman_p(table: Mapping[str, ArrayLike]) -> float:
    """Friedman test p-value over tuners (>= 3) paired by seed; 1.0 when all equal."""
    samples = [np.asarray(v, dtype=float) for v in table.values()]
    if len(samples) < 3:
        raise ValueError("the Friedman test needs at least three tuners")
    if all(np.array_equal(samples[0], s) for s in samples[1:]):
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = stats.friedmanchisquare(*samples).pvalue
    return 1.0 if math.isnan(p) else float(p)


def best_so_far(xs: Sequence[float], scores: Sequence[float | None], grid: ArrayLike) -> np.ndarray:
    """Best score reached by each grid point, from trials ending at xs (nan before the first).

    xs: cumulative epochs or seconds at which each trial ended, in completion
    order; a failed trial's score is None. A step function, right-continuous.
    """
    ends, values = _steps(xs, scores)
    points = np.asarray(grid, dtype=float)
    best = np.full(len(points), np.nan)
    idx = np.searchsorted(ends, points, side="right") - 1
    ok = idx >= 0
    best[ok] = values[idx[ok]]
    return best


def _steps(xs: Sequence[float], scores: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """Where the best-so-far curve changes and its value from there (from the first model)."""
    ends, values = [], []
    running = -np.inf
    for x, s in zip(xs, scores, strict=True):
        if s is None:
            continue
        running = max(running, s)
        ends.append(float(x))
        values.append(running)
    return np.asarray(ends, dtype=float), np.asarray(values, dtype=float)


def first_model_at(xs: Sequence[float], scores: Sequence[float | None]) -> float:
    """Where the first model (a completed trial) appears; inf if none does."""
    ends, _ = _steps(xs, scores)
    return float(ends[0]) if len(ends) else math.inf


def step_area(
    xs: Sequence[float], scores: Sequence[float | None], start: float, stop: float
) -> float:
    """Mean of the best-so-far step curve over [start, stop]: its integral / (stop - start).

    Exact (no grid). nan if the curve has no model at `start` or the range is empty;
    after the last trial the curve stays at its final value.
    """
    ends, values = _steps(xs, scores)
    if not len(ends) or ends[0] > start or not stop > start:
        return math.nan
    edges = np.clip(np.append(ends, np.inf), start, stop)
    return float(np.sum(values * np.diff(edges)) / (stop - start))


def normalised_scores(table: Mapping[str, ArrayLike], reference: str) -> dict:
    """bayesmark-style score per tuner: 0 = best seen on each seed, 1 = `reference`.

    score = mean(best_seen - tuner) / mean(best_seen - reference), over seeds;
    None when the reference itself is best on every seed.
    """
    matrix = np.array([table[k] for k in table], dtype=float)
    best = matrix.max(axis=0)
    denominator = float(np.mean(best - np.asarray(table[reference], dtype=float)))
    if denominator == 0:
        return {k: None for k in table}
    return {
        k: float(np.mean(best - np.asarray(v, dtype=float)) / denominator) for k, v in table.items()
    }
