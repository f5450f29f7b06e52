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
from scipy import stats

ALPHA = 0.05
BOOTSTRAP_RESAMPLES = 9999
POWER = 0.8


def bootstrap_ci(
    values: Sequence[float], confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (scipy.stats.bootstrap), shape (n,) -> (low, high).

    A constant sample has the degenerate interval (v, v); one value has no interval (nan).
    """
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return (math.nan, math.nan)
    if np.ptp(x) == 0:
        return (float(x[0]), float(x[0]))
    if len(x) < 2:
        return (math.nan, math.nan)
    res = stats.bootstrap(
        (x,),
        np.mean,
        confidence_level=confidence,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return (float(res.confidence_interval.low), float(res.confidence_interval.high))


def describe(values: Sequence[float], seed: int = 0) -> dict[str, float]:
    """mean, median, 95 % bootstrap CI of the mean, n."""
    x = np.asarray(values, dtype=float)
    low, high = bootstrap_ci(x, seed=seed)
    return {
        "mean": float(np.mean(x)) if len(x) else math.nan,
        "median": float(np.median(x)) if len(x) else math.nan,
        "ci_low": low,
        "ci_high": high,
        "n": int(len(x)),
    }


def wilcoxon_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided paired Wilcoxon signed-rank p-value (scipy; exact where ties allow).

    Zero differences are dropped (Wilcoxon's method); all-zero differences give 1.0.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) == 0 or np.all(d == 0):
        return 1.0
    return float(stats.wilcoxon(a, b, zero_method="wilcox", method="auto").pvalue)


def a12(a: Sequence[float], b: Sequence[float]) -> float:
    """Vargha-Delaney A12: P(A > B) + P(A = B) / 2 over all pairs; 0.5 means no effect."""
    x = np.asarray(a, dtype=float)[:, None]
    y = np.asarray(b, dtype=float)[None, :]
    if x.size == 0 or y.size == 0:
        return math.nan
    return float(np.mean(x > y) + 0.5 * np.mean(x == y))


def holm(pvalues: Sequence[float]) -> list[float]:
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


def seeds_needed(
    differences: Sequence[float],
    n_comparisons: int = 1,
    alpha: float = ALPHA,
    power: float = POWER,
    max_n: int = 10_000,
) -> int | None:
    """Seeds a paired test would need to detect the observed mean difference.

    Uses the paired t-test's power (noncentral t) at alpha / n_comparisons (the
    first Holm step), inflated by 3/pi, Wilcoxon's worst asymptotic relative
    efficiency against t for normal data; never fewer than the exact Wilcoxon
    floor. None when the observed difference is zero or has no spread to scale by.
    """
    d = np.asarray(differences, dtype=float)
    if len(d) < 2 or np.mean(d) == 0:
        return None
    sd = np.std(d, ddof=1)
    if sd == 0:
        return min_seeds_for_any_verdict(n_comparisons, alpha)
    effect = abs(np.mean(d)) / sd
    level = alpha / n_comparisons
    for n in range(2, max_n + 1):
        df = n - 1
        crit = stats.t.ppf(1 - level / 2, df)
        achieved = stats.nct.sf(crit, df, effect * math.sqrt(n)) + stats.nct.cdf(
            -crit, df, effect * math.sqrt(n)
        )
        if achieved >= power:
            return max(math.ceil(n * math.pi / 3), min_seeds_for_any_verdict(n_comparisons, alpha))
    return None


def average_ranks(table: Mapping[str, Sequence[float]], higher_is_better: bool = True) -> dict:
    """Mean rank per tuner over seeds (1 = best; ties share ranks). table: tuner -> (n,)."""
    names = list(table)
    matrix = np.array([table[k] for k in names], dtype=float)  # (tuners, seeds)
    ranks = stats.rankdata(-matrix if higher_is_better else matrix, axis=0)
    return {name: float(r) for name, r in zip(names, ranks.mean(axis=1), strict=True)}


def friedman_p(table: Mapping[str, Sequence[float]]) -> float:
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


def best_so_far(
    xs: Sequence[float], scores: Sequence[float | None], grid: Sequence[float]
) -> np.ndarray:
    """Best score reached by each grid point, from trials ending at xs (nan before the first).

    xs: cumulative epochs or seconds at which each trial ended, in completion order.
    """
    best = np.full(len(grid), np.nan)
    running = -np.inf
    ends, values = [], []
    for x, s in zip(xs, scores, strict=True):
        if s is not None:
            running = max(running, s)
        ends.append(x)
        values.append(running)
    ends_a, values_a = np.asarray(ends, dtype=float), np.asarray(values, dtype=float)
    idx = np.searchsorted(ends_a, np.asarray(grid, dtype=float), side="right") - 1
    ok = idx >= 0
    best[ok] = values_a[idx[ok]]
    best[np.isinf(best)] = np.nan
    return best


def normalised_area(curve: np.ndarray) -> float:
    """Mean of a best-so-far curve over an even grid; nan (no model yet) counts as 0.

    1.0 would be a perfect model from the first instant; larger = good models sooner.
    """
    return float(np.mean(np.nan_to_num(curve, nan=0.0))) if len(curve) else math.nan


def normalised_scores(table: Mapping[str, Sequence[float]], reference: str) -> dict:
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
