"""Accuracy against size over seeds: each cell's hypervolume, compared between tuners.

A cell's hypervolume is that of every completed trial's (error, size) point
(`hpo.analysis.pareto`); tuners are compared on it pair by pair with the paired
Wilcoxon test over seeds, Holm-corrected across the pairs, as for the test score.
Shared by one task's summary and the suite's.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TypedDict

import numpy as np

from hpo.analysis import stats
from hpo.analysis.anytime import quartiles
from hpo.analysis.paired import Pair, Ranks, holm_in_place, pair, ranks, seeds_text
from hpo.analysis.pareto import REFERENCE_POINT, hypervolume, hypervolume_curve, trial_points
from hpo.analysis.tasks import Judged
from hpo.experiment.results import CellResult


class Curve(TypedDict):
    """A median curve over seeds and its quartiles, on `grid` (NaN before every seed has one)."""

    grid: list[float]
    median: list[float]
    q25: list[float]
    q75: list[float]


class HypervolumeBlock(TypedDict):
    """Hypervolume per tuner over seeds, its paired comparisons, ranks and anytime curve."""

    reference_point: list[float]
    per_tuner: dict[str, dict[str, float]]
    per_seed: dict[str, dict[str, float]]
    pairs: list[Pair]
    friedman: Ranks | None
    anytime_epochs: dict[str, Curve]
    text: str


def cell_hypervolume(cell: CellResult, task: Judged) -> float | None:
    """The hypervolume of every completed trial of the cell (that of its Pareto set), judged
    as `task` (`hpo.analysis.tasks.judged_tasks`); None for a record made before trials
    recorded their model's size."""
    if any(h.params is None and h.completed for h in cell.history):
        return None
    return hypervolume([(e, s) for _, e, s in trial_points(cell.history, task)])


def hypervolume_block(
    by_key: Mapping[tuple[str, int], CellResult],
    tuners: list[str],
    seeds: list[int],
    alpha: float,
    task: Judged,
) -> HypervolumeBlock | None:
    """Hypervolume per tuner over seeds of one task's records, judged as `task`: its paired
    comparisons, ranks and anytime curve (None if a record predates model sizes)."""
    values = {t: [cell_hypervolume(by_key[t, s], task) for s in seeds] for t in tuners}
    if any(v is None for vs in values.values() for v in vs):
        return None
    table = {t: np.array(v, dtype=float) for t, v in values.items()}
    pairs = [
        pair(a, b, "hypervolume", table[a], table[b]) for a, b in itertools.combinations(tuners, 2)
    ]
    holm_in_place(pairs, alpha)
    for p in pairs:
        p["seeds_needed"] = stats.seeds_needed_range(
            table[p["a"]] - table[p["b"]], n_comparisons=len(pairs)
        )
    per_tuner = {t: stats.describe(v, (0.0, 1.0)) for t, v in table.items()}
    friedman = ranks(table, alpha)
    return {
        "reference_point": list(REFERENCE_POINT),
        "per_tuner": per_tuner,
        "per_seed": {str(s): {t: float(table[t][i]) for t in tuners} for i, s in enumerate(seeds)},
        "pairs": pairs,
        "friedman": friedman,
        "anytime_epochs": _anytime({t: [by_key[t, s] for s in seeds] for t in tuners}, task),
        "text": hypervolume_verdict(pairs, per_tuner, friedman, len(seeds)),
    }


def hypervolume_verdict(
    pairs: Sequence[Pair],
    per_tuner: Mapping[str, Mapping[str, float]],
    friedman: Ranks | None,
    n_seeds: int,
) -> str:
    """One sentence: which tuners' accuracy-versus-size sets are larger, and how sure."""
    method = f"paired Wilcoxon over {n_seeds} seeds, Holm across pairs"
    wins = []
    for p in pairs:
        if p["significant"]:
            better, worse = (p["a"], p["b"]) if p["mean_difference"] > 0 else (p["b"], p["a"])
            a12 = max(p["effect_size"], 1 - p["effect_size"])
            wins.append(
                f"**{better}** > {worse} by {abs(p['mean_difference']):.3f}"
                f" (p_adj {p['p_adjusted']:.3f}, A12 {a12:.2f})"
            )
    means = {t: d["mean"] for t, d in per_tuner.items()}
    top = max(means, key=lambda t: means[t])
    tail = f"; Friedman p {friedman['p_value']:.3f}" if friedman else ""
    if wins:
        return f"Accuracy against size, hypervolume ({method}): " + "; ".join(wins) + "."
    if len(means) == 1:  # one tuner: nothing to compare
        return f"Accuracy against size, hypervolume: {top} {means[top]:.3f} on average."
    open_pairs = [p for p in pairs if top in (p["a"], p["b"])]
    needed = "; ".join(
        f"{p['b'] if p['a'] == top else p['a']}: {seeds_text(p)}" for p in open_pairs
    )
    return (
        f"Accuracy against size, hypervolume ({method}): no pair differs. Highest mean:"
        f" {top} {means[top]:.3f}{tail}. Seeds needed to tell {top} from the others with 80 %"
        f" power, estimated: {needed}."
    )


def _anytime(cells: Mapping[str, Sequence[CellResult]], task: Judged) -> dict[str, Curve]:
    """Median (and quartiles) over seeds of the hypervolume so far, against epochs trained."""
    out: dict[str, Curve] = {}
    for tuner, group in cells.items():
        curves = []
        for c in group:
            xs = np.cumsum([h.epochs for h in c.history]).tolist()
            curves.append((xs, hypervolume_curve(c.history, task)))
        horizon = max(xs[-1] for xs, _ in curves)
        grid = np.linspace(0, horizon, stats.ANYTIME_POINTS)
        matrix = np.array([stats.best_so_far(xs, hv, grid) for xs, hv in curves])
        q25, q50, q75 = quartiles(matrix)
        out[tuner] = {
            "grid": grid.tolist(),
            "median": q50.tolist(),
            "q25": q25.tolist(),
            "q75": q75.tolist(),
        }
    return out
