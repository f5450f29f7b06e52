"""Tuners over the whole budget, across tasks: normalised regret and average rank against
budget, and critical differences at fractions of it (as Syne Tune's and HPO-B's plots do).

What is followed is each search's incumbent: the best validation objective its trials had
reached by budget b (the score the tuner itself sees; a test score exists only for the
final model). Budget is measured two ways: epochs trained, and seconds on the search's
clock (live wall time, or a replay's simulated clock of its table, of k workers if k).
Each task's axis runs to its longest search; a search that ended earlier keeps its last
incumbent. Fractions of the budget are of that task's longest search.

- Normalised regret (bayesmark, Syne Tune): per task, 0 is the best validation objective
  any trial of any tuner reached on that task (over all its seeds), 1 is the mean over
  seeds of random search's final incumbent (of all tuners' final incumbents when random
  search was not run), so random search ends at 1 on every task.
  regret = (best - incumbent) / (best - reference), for a minimised objective the other
  way round; above 1 is worse than random search's final result on average.
  Per tuner: the mean over a task's seeds, then the mean over tasks; its 95 % band is a
  bootstrap over seeds (seeds resampled within each task, 1,000 times, fixed seed).
- Average rank: within each (task, seed) block, tuners ranked on the incumbent (1 = best,
  ties share), averaged over blocks.
- Critical differences at 25 %, 50 % and 100 % of the budget: Friedman's test and
  Nemenyi's critical difference of the average ranks over the blocks
  (`hpo.analysis.paired.ranks`), for the tuners every block ran.

A search with no completed trial by b has no incumbent there: the curves start where every
search of every tuner has one (as the anytime curves do).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TypedDict

import numpy as np

from hpo.analysis import stats
from hpo.analysis.paired import Ranks, ranks
from hpo.analysis.tasks import JudgedTask
from hpo.experiment.results import CellResult

POINTS = 101  # budget fractions 0, 0.01, ..., 1
FRACTIONS = (0.25, 0.5, 1.0)  # where critical differences are drawn
BOOTSTRAP = 1_000
AXES = ("epochs", "seconds")
NORMALISATION = (
    "normalised regret: per task, 0 = the best validation objective any trial of any tuner"
    " reached on it, 1 = the mean over seeds of random search's final incumbent (of all"
    " tuners' when random search was not run); the mean over a task's seeds, then over tasks;"
    " 95 % band: a bootstrap over seeds. A task on which that mean already reaches the best"
    " (no gap to scale by, as on saturated validation rows) is left out of the regret, not of"
    " the ranks"
)


class Curve(TypedDict):
    """A tuner's mean regret over tasks at each budget fraction, and its 95 % band."""

    mean: list[float | None]
    low: list[float | None]
    high: list[float | None]


class OnOneAxis(TypedDict):
    """Regret and ranks against one budget axis (epochs or seconds)."""

    axis: str
    fractions: list[float]
    budget: dict[str, float]  # per task: its longest search, on this axis
    regret: dict[str, Curve]
    average_rank: dict[str, list[float | None]]
    critical_differences: dict[str, Ranks | None]  # "0.25", "0.5", "1.0"
    leader: list[str | None]  # the tuner of lowest mean regret at each fraction (None: none yet)
    dominant: str | None  # the tuner that leads wherever any leads, if one does


class OverBudget(TypedDict):
    """summary.json's `over_budget`: each axis, the tuners and tasks, how regret is scaled."""

    tuners: list[str]
    tasks: list[str]
    blocks: int
    normalisation: str
    reference: dict[str, str]  # per task: the tuner at regret 1, or "all tuners"
    regret_tasks: list[str]  # the tasks whose regret is defined (a gap to scale by)
    axes: dict[str, OnOneAxis]


def incumbents(cell: CellResult, axis: str, grid: np.ndarray, minimise: bool) -> np.ndarray:
    """The cell's best validation objective reached by each point of `grid` (NaN before its
    first completed trial), on `axis` (cumulative epochs, or its clock's seconds)."""
    if axis == "epochs":
        xs = np.cumsum([h.epochs for h in cell.history]).tolist()
    else:
        xs = [h.elapsed_s for h in cell.history]
    sign = -1.0 if minimise else 1.0
    scores = [None if h.score is None else sign * h.score for h in cell.history]
    return sign * stats.best_so_far(xs, scores, grid)


def _extent(cell: CellResult, axis: str) -> float:
    if axis == "epochs":
        return float(sum(h.epochs for h in cell.history))
    return float(max((h.elapsed_s for h in cell.history), default=0.0))


def over_budget(
    per_task: Mapping[str, Sequence[CellResult]],
    judged: Mapping[str, JudgedTask],
    alpha: float = stats.ALPHA,
    reference: str = "random",
) -> OverBudget | None:
    """Regret and ranks against budget over `per_task` (task -> its records, every tuner on
    the same seeds), for the tuners every task ran. None if fewer than two tuners."""
    tasks = list(per_task)
    tuner_lists = [list(dict.fromkeys(c.tuner for c in cells)) for cells in per_task.values()]
    tuners = [t for t in tuner_lists[0] if all(t in other for other in tuner_lists)]
    if len(tuners) < 2:
        return None
    fractions = np.linspace(0.0, 1.0, POINTS)
    seeds = {
        name: sorted(set.intersection(*({c.seed for c in cells if c.tuner == t} for t in tuners)))
        for name, cells in per_task.items()
    }
    by_key = {name: {(c.tuner, c.seed): c for c in cells} for name, cells in per_task.items()}
    refs = {name: reference if reference in tuners else "all tuners" for name in tasks}
    axes: dict[str, OnOneAxis] = {}
    for axis in AXES:
        budget = {
            name: max(_extent(c, axis) for c in per_task[name] if c.tuner in tuners)
            for name in tasks
        }
        # inc[name][tuner]: (seeds, points) incumbents on this task's axis
        inc = {
            name: {
                t: np.array([
                    incumbents(by_key[name][t, s], axis, fractions * budget[name],
                               judged[name].minimise)
                    for s in seeds[name]
                ])
                for t in tuners
            }
            for name in tasks
        }  # fmt: skip
        regret = {name: _regret(inc[name], judged[name].minimise, refs[name]) for name in tasks}
        scaled = {n: r for n, r in regret.items() if r is not None}
        curves = {t: _curve([r[t] for r in scaled.values()]) for t in tuners}
        leader = _leaders(curves)
        led = {t for t in leader if t is not None}
        axes[axis] = {
            "axis": axis,
            "fractions": fractions.tolist(),
            "budget": budget,
            "regret": curves,
            "leader": leader,
            "dominant": led.pop() if len(led) == 1 else None,
            "average_rank": _average_ranks(inc, tuners, judged),
            "critical_differences": {
                f"{f:g}": _cd_at(inc, tuners, judged, int(round(f * (POINTS - 1))), alpha)
                for f in FRACTIONS
            },
        }
    return {
        "tuners": tuners,
        "tasks": tasks,
        "blocks": sum(len(s) for s in seeds.values()),
        "normalisation": NORMALISATION,
        "reference": refs,
        "regret_tasks": [n for n in tasks if n in scaled],
        "axes": axes,
    }


def _regret(
    inc: Mapping[str, np.ndarray], minimise: bool, reference: str
) -> dict[str, np.ndarray] | None:
    """Each tuner's regret, shape (seeds, points), on one task's incumbents; None if the
    reference's mean final incumbent is already the best (no gap to scale by)."""
    sign = -1.0 if minimise else 1.0  # work with "higher is better"
    best = max(float(np.nanmax(sign * v)) for v in inc.values())
    finals = [sign * v[:, -1] for t, v in inc.items() if reference in (t, "all tuners")]
    ref = float(np.nanmean(np.concatenate(finals)))
    scale = best - ref
    if not scale > 0:  # the reference already reached the best: no gap to scale by
        return None
    return {t: (best - sign * v) / scale for t, v in inc.items()}


def _curve(per_task: Sequence[np.ndarray], rng_seed: int = 0) -> Curve:
    """Mean over tasks of each task's mean over seeds, and a bootstrap band over seeds.

    per_task: arrays of shape (seeds, points); none: no regret is defined (all None)."""
    if not per_task:
        return {"mean": [None] * POINTS, "low": [None] * POINTS, "high": [None] * POINTS}
    mean = np.mean([np.mean(r, axis=0) for r in per_task], axis=0)
    rng = np.random.default_rng(rng_seed)
    draws = np.zeros((BOOTSTRAP, mean.shape[0]))
    for r in per_task:  # a task's seeds resampled: multinomial counts, one product
        n = len(r)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=BOOTSTRAP)
        draws += counts @ r / n
    draws /= len(per_task)
    with warnings.catch_warnings():  # points where no seed has a model yet: NaN, as meant
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(draws, [2.5, 97.5], axis=0)
    return {"mean": _listed(mean), "low": _listed(low), "high": _listed(high)}


def _leaders(curves: Mapping[str, Curve]) -> list[str | None]:
    """At each fraction, the tuner of lowest mean regret (the first of equals); None where
    no tuner has a mean yet."""
    out: list[str | None] = []
    for i in range(POINTS):
        means: dict[str, float] = {}
        for t, c in curves.items():
            value = c["mean"][i]
            if value is not None:
                means[t] = value
        out.append(min(means, key=means.__getitem__) if means else None)
    return out


def _listed(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in values]


def _blocks(
    inc: Mapping[str, Mapping[str, np.ndarray]], tuners: Sequence[str], point: int,
    judged: Mapping[str, JudgedTask],
) -> dict[str, np.ndarray]:  # fmt: skip
    """tuner -> incumbents at one point over every (task, seed) block, higher is better."""
    return {
        t: np.concatenate(
            [(-1.0 if judged[n].minimise else 1.0) * inc[n][t][:, point] for n in inc]
        )
        for t in tuners
    }


def _average_ranks(
    inc: Mapping[str, Mapping[str, np.ndarray]],
    tuners: Sequence[str],
    judged: Mapping[str, JudgedTask],
) -> dict[str, list[float | None]]:
    out: dict[str, list[float | None]] = {t: [] for t in tuners}
    for point in range(POINTS):
        table = _blocks(inc, tuners, point, judged)
        if any(np.isnan(v).any() for v in table.values()):  # a search has no model yet
            for t in tuners:
                out[t].append(None)
            continue
        for t, r in stats.average_ranks(table).items():
            out[t].append(r)
    return out


def _cd_at(
    inc: Mapping[str, Mapping[str, np.ndarray]],
    tuners: Sequence[str],
    judged: Mapping[str, JudgedTask],
    point: int,
    alpha: float,
) -> Ranks | None:
    table = _blocks(inc, tuners, point, judged)
    if any(np.isnan(v).any() for v in table.values()):
        return None
    return ranks(table, alpha)
