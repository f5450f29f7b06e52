"""One task's numbers in words: the verdict, and the seed report's recommendation tested.

Every sentence names its test (paired Wilcoxon over seeds, Holm-corrected) and
says what was not found as plainly as what was: how many seeds a verdict needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypedDict

import numpy as np

from hpo.analysis import stats
from hpo.analysis.paired import Pair, holm_in_place, pair, seeds_text


class Judged(Protocol):
    """What a verdict reads of one task's summary (`hpo.analysis.summary.TaskSummary`)."""

    @property
    def tuners(self) -> list[str]: ...
    @property
    def pairs(self) -> list[Pair]: ...
    @property
    def references(self) -> Mapping[str, Any] | None: ...
    @property
    def n_seeds(self) -> int: ...
    @property
    def n_test(self) -> int: ...
    @property
    def alpha(self) -> float: ...
    @property
    def min_p_adjusted(self) -> float: ...
    @property
    def min_seeds_for_any_verdict(self) -> int: ...


REFERENCES = {  # untuned models on the same splits (hpo.run.references)
    "default_mlp": "untuned MLP (1 × 64 relu, lr 0.001, 50 epochs)",
    "logistic_regression": "LogisticRegression",
}
HIGHER_IS_BETTER = {"test_accuracy": True, "wall_time_s": False}  # the compared metrics
# The seed report's recommended workflow and the tuners it combines.
HYBRID = ("hyperband-bayesian", ("hyperband", "bayesian"))


class SignificantPair(TypedDict):
    """A significant difference, stated from the better side (A12 of the better one)."""

    better: str
    worse: str
    metric: str
    mean_difference: float
    p_adjusted: float
    effect_size: float


class Verdict(TypedDict):
    """The winner (or None), every significant pair, and the sentence that says so."""

    winner: str | None
    significant_pairs: list[SignificantPair]
    text: str


class Recommendation(TypedDict):
    """The hybrid tuner against each of its parts run alone, and the sentence."""

    tuner: str
    parts: list[str]
    comparisons: list[Pair]
    text: str


def recommendation(
    table: Mapping[str, np.ndarray], n_test: int, alpha: float
) -> Recommendation | None:
    """The seed report's "Hyperband, then Bayesian" against each of its parts run alone.

    A pre-specified claim, so its own family: Wilcoxon on correct test rows per
    seed (table: tuner -> shape (n_seeds,)), Holm across its (at most two)
    comparisons, not across every pair of tuners. None unless `HYBRID` and at
    least one of its parts were run.
    """
    hybrid, both = HYBRID
    parts = [p for p in both if p in table]
    if hybrid not in table or not parts:
        return None
    rows = [pair(hybrid, part, "test_accuracy", table[hybrid], table[part]) for part in parts]
    holm_in_place(rows, alpha)
    for row in rows:
        diffs = np.subtract(table[hybrid], table[row["b"]])
        row["mean_difference_rows"] = row["mean_difference"]
        row["mean_difference"] = row["mean_difference"] / n_test
        row["seeds_needed"] = stats.seeds_needed_range(diffs, n_comparisons=len(rows))
    n = len(table[hybrid])

    def one(row: Pair) -> str:
        diff = row["mean_difference_rows"]
        how = f"{diff:+.1f} rows of {n_test} per seed, p_adj {row['p_adjusted']:.3f}"
        if row["significant"]:
            word = "beats" if diff > 0 else "loses to"
            return f"it **{word}** {row['b']} ({how}, A12 {row['effect_size']:.2f})"
        return f"it is not told apart from {row['b']} ({how}; seeds needed: {seeds_text(row)})"

    text = (
        f"The seed report's recommendation, Hyperband then Bayesian ({hybrid}), in test"
        f" accuracy over {n} seeds (Wilcoxon, Holm across these {len(rows)}): "
        + "; ".join(one(r) for r in rows)
        + "."
    )
    return {"tuner": hybrid, "parts": parts, "comparisons": rows, "text": text}


def verdict(summary: Judged) -> Verdict:
    """winner (or None), every significant pair, and the sentence that says so.

    The winner beats every other tuner in test accuracy; references are named
    when they beat a tuner, but are never the winner.
    """
    significant = []
    for p in summary.pairs:
        if p["significant"]:
            significant.append(_significant_pair(p, p["metric"]))
    for b in (summary.references or {}).values():
        for row in b["vs_tuners"].values():
            if row["significant"]:
                significant.append(_significant_pair(row, "test_accuracy"))
    tuners = summary.tuners
    winner = None
    for t in tuners:
        beaten = {
            s["worse"] for s in significant if s["metric"] == "test_accuracy" and s["better"] == t
        }
        if len(tuners) > 1 and beaten >= set(tuners) - {t}:
            winner = t
    return {
        "winner": winner,
        "significant_pairs": significant,
        "text": _verdict_text(summary, winner, significant),
    }


def _significant_pair(p: Pair, metric: str) -> SignificantPair:
    a_better = (p["mean_difference"] > 0) == HIGHER_IS_BETTER.get(metric, True)
    better, worse = (p["a"], p["b"]) if a_better else (p["b"], p["a"])
    a12 = p["effect_size"] if better == p["a"] else 1 - p["effect_size"]
    if p["metric"] == "wall_time_s":  # lower is better: A12 of the better being larger is low
        a12 = 1 - a12
    return {
        "better": better,
        "worse": worse,
        "metric": p["metric"],
        "mean_difference": abs(p["mean_difference"]),
        "p_adjusted": p["p_adjusted"],
        "effect_size": a12,
    }


def _verdict_text(
    summary: Judged, winner: str | None, significant: Sequence[SignificantPair]
) -> str:
    n, alpha, n_test = summary.n_seeds, summary.alpha, summary.n_test
    method = f"paired Wilcoxon over {n} seeds, Holm-corrected, alpha {alpha}"
    accuracy = [s for s in significant if s["metric"] == "test_accuracy"]
    tuner_acc = [s for s in accuracy if s["worse"] in summary.tuners
                 and s["better"] in summary.tuners]  # fmt: skip
    refs = [s for s in accuracy if s not in tuner_acc]
    times = [s for s in significant if s["metric"] == "wall_time_s"]

    def rows(s: SignificantPair) -> str:
        return f"{s['mean_difference'] * n_test:.1f} rows of {n_test}"

    parts: list[str] = []
    if not significant:
        parts.append(
            f"**No significant difference at {n} seeds** ({method}): no tuner differs"
            " from another in test accuracy or search time"
            + (", nor from the untuned references." if summary.references else ".")
        )
    elif winner:
        parts.append(
            f"**{winner}** finds models with higher test accuracy than every other tuner"
            f" ({method})."
        )
    elif tuner_acc:
        named = "; ".join(
            f"**{s['better']}** beats {s['worse']} by {rows(s)} per seed on average"
            f" (p_adj {s['p_adjusted']:.3f}, A12 {s['effect_size']:.2f})"
            for s in tuner_acc
        )
        parts.append(f"Test accuracy ({method}): {named}. No tuner beats every other one.")
    else:
        parts.append(f"Test accuracy: no pair of tuners differs significantly at {n} seeds.")
    if significant and winner:
        others = [s for s in tuner_acc if s["better"] != winner]
        parts.extend(
            f"Also **{s['better']}** beats {s['worse']} by {rows(s)} (p_adj {s['p_adjusted']:.3f})."
            for s in others
        )
    for s in refs:
        label = REFERENCES.get(s["better"], s["better"])
        worse = REFERENCES.get(s["worse"], s["worse"])
        parts.append(
            f"**{label}** has higher test accuracy than {worse} by {rows(s)} per seed"
            f" (p_adj {s['p_adjusted']:.3f}, Holm across tuner-reference pairs)."
        )
    if times:
        parts.append(
            "Search time: "
            + "; ".join(
                f"**{s['better']}** is faster than {s['worse']} by {s['mean_difference']:.1f} s"
                f" (p_adj {s['p_adjusted']:.3f})"
                for s in times
            )
            + "."
        )
    if summary.min_p_adjusted >= alpha:
        parts.append(
            f"With {n} paired seeds the smallest Holm-adjusted p-value a pair of tuners can"
            f" reach is {summary.min_p_adjusted:.3f}, so no pair could be called different"
            f" whatever the data; at least {summary.min_seeds_for_any_verdict} seeds are"
            " needed for that."
        )
    open_pairs = [
        p for p in summary.pairs
        if p["metric"] == "test_accuracy" and not p["significant"]
    ]  # fmt: skip
    if open_pairs:
        parts.append(
            "Seeds needed to detect the observed test-accuracy differences with 80 % power,"
            " estimated (median, and 10–90 % range from a bootstrap of the effect): "
            + "; ".join(f"{p['a']} vs {p['b']}: {seeds_text(p)}" for p in open_pairs)
            + "."
        )
    return " ".join(parts)
