"""How much a table's one split decides: two reports of the same tuners, side by side.

A replayed verdict holds for its table's one train/validation split and training
seeds (`hpo.analysis.replayed`). Replaying the same tuners and seeds on a second
table of the same grid on another split, and comparing the two reports'
summary.json, measures what the split decides: per pair of tuners, whether the
conclusion (relevant, below the margin, equivalent, undecided, ...) stays; and
Kendall's tau between the two rankings of the tuners by mean test score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hpo.errors import HpoError


@dataclass(frozen=True)
class PairOnTwoSplits:
    """One pair's conclusion (`hpo.analysis.paired.CONCLUSIONS` keys) and mean difference
    a - b, on the first split and the second."""

    a: str
    b: str
    first: str
    second: str
    first_difference: float
    second_difference: float

    @property
    def changed(self) -> bool:
        """The conclusion differs, or a difference the tests found reverses its sign."""
        found = {"relevant", "below_margin", "different"}
        flipped = (
            self.first in found
            and self.second in found
            and (self.first_difference > 0) != (self.second_difference > 0)
        )
        return self.first != self.second or flipped


@dataclass(frozen=True)
class SplitSensitivity:
    """Two reports' verdicts, pair by pair, and their rankings of the tuners."""

    metric: str
    first_ranking: tuple[str, ...]  # best first, by mean test score
    second_ranking: tuple[str, ...]
    kendall_tau: float  # 1: the same order; -1: reversed
    kendall_p: float
    pairs: tuple[PairOnTwoSplits, ...]

    @property
    def changed(self) -> int:
        return sum(p.changed for p in self.pairs)


def split_sensitivity(first: Mapping[str, Any], second: Mapping[str, Any]) -> SplitSensitivity:
    """Compare two summary.json documents of the same tuners (and seeds, for a fair
    comparison); HpoError (one line) if their tuners or test metrics differ."""
    from scipy import stats

    means = [_means(first, "first"), _means(second, "second")]
    (metric, one), (other_metric, two) = means
    if metric != other_metric:
        raise HpoError(f"the reports judge different test scores: {metric} and {other_metric}")
    if set(one) != set(two):
        raise HpoError(f"the reports compare different tuners: {sorted(one)} and {sorted(two)}")
    tuners = sorted(one)
    if len(tuners) < 2:
        raise HpoError("a report of one tuner has no ranking to compare")
    tau = stats.kendalltau([one[t] for t in tuners], [two[t] for t in tuners])
    try:
        pairs = _matched_pairs(_pairs(first, "first"), _pairs(second, "second"))
    except (KeyError, TypeError, ValueError) as e:
        raise HpoError(f"a report's pair lacks a usable {e}") from None
    return SplitSensitivity(
        metric,
        _ranking(one),
        _ranking(two),
        float(tau.statistic),
        float(tau.pvalue),
        tuple(pairs),
    )


def _matched_pairs(
    first: list[Mapping[str, Any]], second: list[Mapping[str, Any]]
) -> list[PairOnTwoSplits]:
    """Each pair of the first report beside the same pair of the second (named either way)."""
    by_names = {(q["a"], q["b"]): q for q in second}
    pairs = []
    for p in first:
        q, flip = by_names.get((p["a"], p["b"])), 1.0
        if q is None:  # the same pair, named the other way round
            q, flip = by_names.get((p["b"], p["a"])), -1.0
        if q is None:
            raise HpoError(f"the second report has no pair {p['a']} - {p['b']}")
        pairs.append(
            PairOnTwoSplits(
                p["a"],
                p["b"],
                p["conclusion"],
                q["conclusion"],
                float(p["mean_difference"]),
                flip * float(q["mean_difference"]),
            )
        )
    return pairs


def _means(summary: Mapping[str, Any], which: str) -> tuple[str, dict[str, float]]:
    """The report's test metric and each tuner's mean of it."""
    try:
        metric = str(summary["pairs"][0]["metric"])
        return metric, {
            tuner: float(stats[metric]["mean"]) for tuner, stats in summary["per_tuner"].items()
        }
    except (KeyError, IndexError, TypeError, ValueError):
        raise HpoError(f"the {which} report's summary has no pairs or per-tuner means") from None


def _pairs(summary: Mapping[str, Any], which: str) -> list[Mapping[str, Any]]:
    pairs = [p for p in summary["pairs"] if "conclusion" in p]
    if not pairs:
        raise HpoError(f"the {which} report's pairs carry no conclusions (no margin was judged)")
    return pairs


def _ranking(means: Mapping[str, float]) -> tuple[str, ...]:
    return tuple(sorted(means, key=lambda t: (-means[t], t)))


def split_sensitivity_text(s: SplitSensitivity, names: tuple[str, str]) -> list[str]:
    """The comparison as lines: the two rankings, tau, then each pair's two conclusions."""
    from hpo.analysis.paired import CONCLUSIONS

    first, second = names
    lines = [
        f"ranking by mean {s.metric}, best first: {first}: {', '.join(s.first_ranking)};"
        f" {second}: {', '.join(s.second_ranking)}",
        f"Kendall's tau between the rankings: {s.kendall_tau:.3f} (p {s.kendall_p:.3g})",
        f"pairs whose verdict changed: {s.changed} of {len(s.pairs)}",
    ]
    for p in s.pairs:
        mark = "CHANGED" if p.changed else "same"
        lines.append(
            f"  {p.a} - {p.b}: {CONCLUSIONS.get(p.first, p.first)} ({p.first_difference:+.4f})"
            f" | {CONCLUSIONS.get(p.second, p.second)} ({p.second_difference:+.4f}): {mark}"
        )
    return lines
