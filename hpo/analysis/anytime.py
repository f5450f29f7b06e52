"""Anytime performance: best-so-far curves over seeds, and their comparable areas.

A cell's curve is the best validation accuracy reached so far against epochs
trained or seconds spent; curves never fall. Over seeds a tuner's median and
quartiles are drawn, each tuner to its own full budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TypedDict

import numpy as np

from hpo.analysis import stats
from hpo.experiment.results import CellResult


class AnytimeCurve(TypedDict):
    """One tuner's best-so-far val accuracy over seeds on `grid`, and its mean area."""

    horizon: float
    grid: list[float]
    median: list[float]
    q25: list[float]
    q75: list[float]
    area: dict[str, float]


class Anytime(TypedDict):
    """Anytime curves on one axis (epochs or seconds), compared from `start`."""

    start: float
    per_tuner: dict[str, AnytimeCurve]


def anytime(cells: Mapping[str, Sequence[CellResult]], axis: str) -> Anytime:
    """Best-so-far val accuracy per tuner, each to its own full budget, and comparable areas.

    A median over seeds is drawn from the first point at which every seed of
    that tuner has a model (`quartiles`). Areas are integrated exactly
    from `start`, the first point at which every tuner has a model, to each
    tuner's own end, and divided by the length integrated: equal scores give
    equal areas whatever the budgets.
    """

    def xs(c: CellResult) -> list[float]:
        if axis == "epochs":
            return np.cumsum([h.epochs for h in c.history]).tolist()
        return [h.elapsed_s for h in c.history]

    def scores(c: CellResult) -> list[float | None]:
        return [h.val_accuracy for h in c.history]

    everyone = [c for group in cells.values() for c in group]
    start = max(stats.first_model_at(xs(c), scores(c)) for c in everyone)
    out: Anytime = {"start": start, "per_tuner": {}}
    for tuner, group in cells.items():
        horizon = max(xs(c)[-1] for c in group)
        grid = np.linspace(0, horizon, stats.ANYTIME_POINTS)
        q25, q50, q75 = quartiles(np.array([stats.best_so_far(xs(c), scores(c), grid)
                                             for c in group]))  # fmt: skip
        areas = [stats.step_area(xs(c), scores(c), start, horizon) for c in group]
        out["per_tuner"][tuner] = {
            "horizon": float(horizon),
            "grid": grid.tolist(),
            "median": q50.tolist(),
            "q25": q25.tolist(),
            "q75": q75.tolist(),
            "area": stats.describe([a for a in areas if not math.isnan(a)]),
        }
    return out


def quartiles(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quartiles over seeds of curves on one grid, matrix shape (n_seeds, n_points) -> three
    of shape (n_points,); NaN up to the first point at which every seed has a value, so a
    median of best-so-far curves never falls (seeds entering one by one could pull it down)."""
    complete = ~np.any(np.isnan(matrix), axis=0)
    q25, q50, q75 = np.full((3, matrix.shape[1]), np.nan)
    if complete.any():
        q25[complete], q50[complete], q75[complete] = np.percentile(
            matrix[:, complete], [25, 50, 75], axis=0
        )
    return q25, q50, q75
