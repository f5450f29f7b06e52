"""Paired comparisons of tuners over seeds: one row per pair, Holm within a family,
Nemenyi's critical difference of average ranks, accuracies as counts of rows, and each
difference against the smallest effect that matters (equivalence by TOST, relevance).

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
DEFAULT_MARGIN_ROWS = 1.0  # smallest effect that matters on accuracy: one test row
DEFAULT_MARGIN_SCORE = 0.01  # ... on a score that does not count rows (R², a task's own)
# What a pair's difference and equivalence tests say together (`Pair["conclusion"]`), in
# the words of report.md's table.
CONCLUSIONS = {
    "relevant": "different, by at least the margin",
    "below_margin": "different, but below the margin",
    "different": "different, size not settled",
    "equivalent": "equivalent within the margin",
    "undecided": "undecided",
}


class Pair(TypedDict):
    """One paired comparison, a - b, as summary.json holds it.

    `p_adjusted` and `significant` come with Holm over the pair's family;
    `mean_difference_rows` is the difference in correct rows where
    `mean_difference` is a share of the test rows; `seeds_needed` is
    `stats.seeds_needed_range` of the paired differences.

    Pairs of test scores also hold the smallest effect that matters, `margin`, in
    `mean_difference`'s units (and `margin_rows`, in test rows, for accuracy), and:
    - `mean_difference_ci` (`_rows`): the (1 - alpha) t-interval of the mean difference;
    - `tost_p_value`, `tost_p_adjusted`: the paired TOST p-value of equivalence within
      the margin (`stats.tost_p`), and Holm's over the family, as for `p_value`;
    - `equivalent`: `tost_p_adjusted` < alpha;
    - `relevant`: None unless `significant`; then True when the whole interval lies at or
      beyond the margin (|difference| >= margin across it), else False;
    - `conclusion`: a key of `CONCLUSIONS`: `relevant`; `below_margin` (significant and
      equivalent: real but smaller than the margin); `different` (significant, neither:
      the interval reaches across the margin); `equivalent` (not significant); `undecided`.
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
    margin: NotRequired[float]
    margin_rows: NotRequired[float]
    mean_difference_ci: NotRequired[list[float]]
    mean_difference_ci_rows: NotRequired[list[float]]
    tost_p_value: NotRequired[float]
    tost_p_adjusted: NotRequired[float]
    equivalent: NotRequired[bool]
    relevant: NotRequired[bool | None]
    conclusion: NotRequired[str]


class SmallestEffect(TypedDict):
    """The smallest effect that matters on one task's test score: `value` in `unit` (test
    rows, or the score's own units), `score_units` the same in the score's units, `text`."""

    value: float
    unit: str
    score_units: float
    text: str


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


def pair(
    a: str,
    b: str,
    metric: str,
    x: np.ndarray,
    y: np.ndarray,
    margin: float | None = None,
    alpha: float = stats.ALPHA,
) -> Pair:
    """One paired comparison by seed (x, y: shape (n_seeds,), counts for accuracies).

    With a `margin` (the smallest effect that matters, in x's units), also the TOST
    p-value of equivalence within it and the (1 - alpha) t-interval of the mean difference.
    """
    diffs = x - y
    row: Pair = {
        "a": a,
        "b": b,
        "metric": metric,
        "mean_difference": float(np.mean(diffs)),
        "p_value": stats.wilcoxon_p(x, y),
        "effect_size": stats.a12(x, y),
    }
    if margin is not None:
        row["margin"] = float(margin)
        row["mean_difference_ci"] = list(stats.t_interval(diffs, 1 - alpha))
        row["tost_p_value"] = stats.tost_p(x, y, margin)
    return row


def holm_in_place(rows: Sequence[Pair], alpha: float) -> None:
    """Add Holm-adjusted p-values and significance at `alpha` to a family of pairs; for
    pairs with a margin, the same for their TOST p-values (equivalence: a second family
    over the same pairs, its own Holm), then relevance and the conclusion."""
    for row, p_adj in zip(rows, stats.holm([r["p_value"] for r in rows]), strict=True):
        row["p_adjusted"] = p_adj
        row["significant"] = bool(p_adj < alpha)
    judged = [r for r in rows if "tost_p_value" in r]
    for row, p_adj in zip(judged, stats.holm([r["tost_p_value"] for r in judged]), strict=True):
        row["tost_p_adjusted"] = p_adj
        row["equivalent"] = bool(p_adj < alpha)
        low, high = row["mean_difference_ci"]
        beyond = low >= row["margin"] or high <= -row["margin"]  # False for a nan interval
        row["relevant"] = bool(beyond) if row["significant"] else None
        if row["significant"]:  # beyond the margin and equivalent within it exclude each other
            said = "relevant" if beyond else "below_margin" if row["equivalent"] else "different"
        else:
            said = "equivalent" if row["equivalent"] else "undecided"
        row["conclusion"] = said


def in_shares(row: Pair, n: int) -> None:
    """A pair of correct-row counts out of `n` restated as shares of the test rows: the
    row values move to the `_rows` keys, as `mean_difference_rows`."""
    row["mean_difference_rows"] = row["mean_difference"]
    row["mean_difference"] = row["mean_difference"] / n
    if "margin" in row:
        row["margin_rows"] = row["margin"]
        row["margin"] = row["margin"] / n
        row["mean_difference_ci_rows"] = row["mean_difference_ci"]
        row["mean_difference_ci"] = [v / n for v in row["mean_difference_ci"]]


def smallest_effect_of(
    value: float | None, counts_rows: bool, score: str, n: int
) -> SmallestEffect:
    """The smallest effect that matters on a task: `value` test rows out of `n` where the
    score counts rows, else in the score's units (`score`, e.g. R²); None: the default."""
    if counts_rows:
        rows = DEFAULT_MARGIN_ROWS if value is None else float(value)
        unit = "test row" if rows == 1 else "test rows"
        return {
            "value": rows,
            "unit": "test rows",
            "score_units": rows / n,
            "text": f"{rows:g} {unit} ({rows / n * 100:.2f} %)",
        }
    v = DEFAULT_MARGIN_SCORE if value is None else float(value)
    return {"value": v, "unit": score, "score_units": v, "text": f"{v:g} in {score}"}


def short_margin(effect: SmallestEffect) -> str:
    """The smallest effect that matters in a few words: "1 test row", "0.01 in R²"."""
    v = effect["value"]
    if effect["unit"] == "test rows":
        return f"{v:g} test row{'' if v == 1 else 's'}"
    return f"{v:g} in {effect['unit']}"


def practical_text(p: Pair, margin: str, alpha: float) -> str:
    """What a pair's difference and equivalence tests say together, in words (`margin`:
    the smallest effect that matters, as `short_margin` says it)."""
    rows = "margin_rows" in p
    d = p["mean_difference_rows"] if rows else p["mean_difference"]
    low, high = p["mean_difference_ci_rows"] if rows else p["mean_difference_ci"]
    form, unit = (".2f", " rows") if rows else (".3g", "")
    c = p["conclusion"]
    better, worse = (p["a"], p["b"]) if d > 0 else (p["b"], p["a"])
    if c in ("relevant", "below_margin", "different") and d < 0:  # from the better side
        d, low, high = -d, -high, -low
    interval = (
        f"{(1 - alpha) * 100:g} % interval {low:{form}} to {high:{form}}{unit}"
        if math.isfinite(low) and math.isfinite(high)
        else "no interval from one seed"
    )
    by = f"{better} > {worse} by {d:{form}}{unit}"
    if c == "relevant":
        return f"{by} ({interval}): different and relevant, by at least {margin}"
    if c == "below_margin":
        return (
            f"{by}: significant, but smaller than {margin}: not practically relevant"
            f" (equivalent within it, TOST p_adj {p['tost_p_adjusted']:.3f})"
        )
    if c == "different":
        return f"{by}: significant, but not shown to reach {margin} ({interval})"
    if c == "equivalent":
        return (
            f"{p['a']} and {p['b']} are equivalent within {margin} (mean difference"
            f" {d:+{form}}{unit}, TOST p_adj {p['tost_p_adjusted']:.3f})"
        )
    return (
        f"{p['a']} vs {p['b']}: undecided, neither shown different nor equivalent within"
        f" {margin} (mean difference {d:+{form}}{unit}, {interval})"
    )


TOST_METHOD = "equivalence by two one-sided paired t-tests (TOST), Holm-corrected across pairs"


def practical_sentence(
    pairs: Sequence[Pair], effect: SmallestEffect, alpha: float, what: str, method: bool = True
) -> str:
    """The smallest effect that matters, stated once, then each pair of `what` against it
    ("" if no pair was judged against it); `method`: also how equivalence is tested."""
    judged = [p for p in pairs if "conclusion" in p]
    if not judged:
        return ""
    margin = short_margin(effect)
    each = "; ".join(practical_text(p, margin, alpha) for p in judged)
    if method:
        return (
            f"Smallest effect that matters: {effect['text']}; {TOST_METHOD}. {what} per pair:"
            f" {each}."
        )
    return f"{what} per pair against the smallest effect that matters, {effect['text']}: {each}."


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
