"""Paired comparisons of tuners over seeds: one row per pair, Holm within a family,
Nemenyi's critical difference of average ranks, accuracies as counts of rows.

Shared by one task's summary (`hpo.analysis.summary`) and the suite's (`hpo.analysis.suite`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from hpo.analysis import stats
from hpo.errors import HpoError

MIN_SEEDS_FOR_CD = 5  # fewer blocks than this make the Nemenyi test's normal approximation poor


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


def pair(a: str, b: str, metric: str, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """One paired comparison by seed (x, y: one value per seed, counts for accuracies)."""
    diffs = x - y
    return {
        "a": a,
        "b": b,
        "metric": metric,
        "mean_difference": float(np.mean(diffs)),
        "p_value": stats.wilcoxon_p(x, y),
        "effect_size": stats.a12(x, y),
    }


def holm_in_place(rows: list[dict[str, Any]], alpha: float) -> None:
    for row, p_adj in zip(rows, stats.holm([r["p_value"] for r in rows]), strict=True):
        row["p_adjusted"] = p_adj
        row["significant"] = bool(p_adj < alpha)


def critical_difference(table: dict[str, np.ndarray], alpha: float) -> dict[str, Any] | None:
    """Nemenyi critical difference of average ranks and the pairwise Nemenyi p-values.

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


def seeds_text(p: dict[str, Any]) -> str:
    est = p.get("seeds_needed")
    if est is None:
        return "no difference observed"

    def one(v: int | None) -> str:
        return f"> {stats.MAX_SEEDS_ESTIMATE:,}" if v is None else f"{v:,}"

    low, mid, high = est
    return f"about {one(mid)} ({one(low)}–{one(high)})"
