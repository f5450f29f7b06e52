"""Paired comparisons of tuners over seeds: one row per pair, Holm within a family,
Nemenyi's critical difference of average ranks, accuracies as counts of rows.

Shared by one task's summary (`hpo.analysis.summary`) and the suite's (`hpo.analysis.suite`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import numpy as np

from hpo.analysis import stats
from hpo.errors import HpoError

MIN_SEEDS_FOR_CD = 5  # fewer blocks than this make the Nemenyi test's normal approximation poor


class Pair(TypedDict):
    """One paired comparison, a - b, as summary.json holds it.

    `p_adjusted` and `significant` come with Holm over the pair's family;
    `mean_difference_rows` is the difference in correct rows where
    `mean_difference` is a share of the test rows; `seeds_needed` is
    `stats.seeds_needed_range` of the paired differences.
    """

    a: str
    b: str
    metric: str
    mean_difference: float
    p_value: float
    effect_size: float
    p_adjusted: NotRequired[float]
    significant: NotRequired[bool]
    mean_difference_rows: NotRequired[float]
    seeds_needed: NotRequired[list[int | None] | None]


class CriticalDifference(TypedDict):
    """Nemenyi's critical difference of average ranks and its pairwise p-values."""

    critical_difference: float
    nemenyi_p: dict[str, dict[str, float]]


class Ranks(TypedDict):
    """Average ranks (1 = best), Friedman's p and, with enough blocks, Nemenyi's CD.

    `metric` names what was ranked (one task's summary says so; the suite does not).
    """

    p_value: float
    average_ranks: dict[str, float]
    critical_difference: float | None
    nemenyi_p: NotRequired[dict[str, dict[str, float]]]
    metric: NotRequired[str]


def counts(what: str, values: Sequence[float], n: int) -> np.ndarray:
    """Accuracies as counts of correct rows out of `n`; HpoError naming `what` if they are not."""
    try:
        return stats.correct_rows(values, n)
    except ValueError:
        raise HpoError(
            f"{what}: {_short_list(values)} are not counts of correct rows out of {n}"
        ) from None


def _short_list(values: Sequence[float]) -> str:
    text = ", ".join(f"{v:.6g}" for v in list(values)[:4])
    return f"[{text}{', ...' if len(values) > 4 else ''}]"


def pair(a: str, b: str, metric: str, x: np.ndarray, y: np.ndarray) -> Pair:
    """One paired comparison by seed (x, y: shape (n_seeds,), counts for accuracies)."""
    diffs = x - y
    return {
        "a": a,
        "b": b,
        "metric": metric,
        "mean_difference": float(np.mean(diffs)),
        "p_value": stats.wilcoxon_p(x, y),
        "effect_size": stats.a12(x, y),
    }


def holm_in_place(rows: Sequence[Pair], alpha: float) -> None:
    """Add Holm-adjusted p-values and significance at `alpha` to a family of pairs."""
    for row, p_adj in zip(rows, stats.holm([r["p_value"] for r in rows]), strict=True):
        row["p_adjusted"] = p_adj
        row["significant"] = bool(p_adj < alpha)


def critical_difference(table: Mapping[str, np.ndarray], alpha: float) -> CriticalDifference | None:
    """Nemenyi critical difference of average ranks and the pairwise Nemenyi p-values.

    table: tuner -> shape (n_blocks,), higher is better.

    CD = q_alpha * sqrt(k (k + 1) / (6 N)) (Demšar 2006), with q_alpha the
    studentized range quantile / sqrt(2) (scipy); the p-values come from
    scikit-posthocs. None with fewer than 3 tuners or MIN_SEEDS_FOR_CD seeds.
    """
    import pandas as pd
    import scikit_posthocs as sp
    from scipy.stats import studentized_range

    k, n = len(table), len(next(iter(table.values())))
    if k < 3 or n < MIN_SEEDS_FOR_CD:
        return None
    q_alpha = studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    blocks = pd.DataFrame({t: np.asarray(v, dtype=float) for t, v in table.items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-tied blocks: scipy warns, p-values stay 1
        nemenyi = sp.posthoc_nemenyi_friedman(blocks)
    return {
        "critical_difference": float(q_alpha * math.sqrt(k * (k + 1) / (6 * n))),
        "nemenyi_p": {a: {b: float(nemenyi.loc[a, b]) for b in table} for a in table},
    }


def ranks(table: Mapping[str, np.ndarray], alpha: float) -> Ranks | None:
    """Average ranks (1 = best, higher values better), Friedman's p and Nemenyi's CD.

    table: tuner -> shape (n_blocks,). None with fewer than 3 tuners.
    """
    if len(table) < 3:
        return None
    out: Ranks = {
        "p_value": stats.friedman_p(table),
        "average_ranks": stats.average_ranks(table),
        "critical_difference": None,
    }
    cd = critical_difference(table, alpha)
    if cd is not None:
        out["critical_difference"] = cd["critical_difference"]
        out["nemenyi_p"] = cd["nemenyi_p"]
    return out


def seeds_text(p: Pair) -> str:
    """The seeds-needed estimate in words: median and 10-90 % range."""
    est = p.get("seeds_needed")
    if est is None:
        return "no difference observed"

    def one(v: int | None) -> str:
        return f"> {stats.MAX_SEEDS_ESTIMATE:,}" if v is None else f"{v:,}"

    low, mid, high = est
    return f"about {one(mid)} ({one(low)}–{one(high)})"
