"""Accuracy against size: Pareto sets of trials and their hypervolume.

Both objectives are put on [0, 1], lower is better, so one fixed reference
point serves every task and tuner:

- error: 1 - validation accuracy, or for a loss objective (regression) the
  validation loss itself (mean squared error on standardised targets, about
  1 - R²), capped at 1 -- a model no better than predicting the mean;
- size: log10 of the model's parameters, placed between the task's `size_range`: for
  hpo's own MLP space, its smallest and largest model (`hpo.experiment.space.param_range`);
  for a task with a model of its own, the smallest and largest built in the records
  (`hpo.analysis.tasks.judged_tasks`).

A task is anything with `minimise` and `size_range` (`hpo.analysis.tasks.Judged`, such as
a `JudgedTask`); an `hpo.experiment.tasks.Task` is judged on the spot
(`hpo.analysis.tasks.judged_task_of`, on the history given, if any).

The reference point is (1, 1): the worst error and the largest model. The
hypervolume is Optuna's exact computation (`optuna._hypervolume`, WFG): the
share of the unit square that the set dominates, so a perfect front scores 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from hpo.analysis.tasks import Judged, judged_task_of
from hpo.errors import HpoError
from hpo.experiment.records import TrialRecord
from hpo.experiment.tasks import Task

REFERENCE_POINT = (1.0, 1.0)

AnyTask = Judged | Task  # a Task is judged on the spot (`judged`)


def judged(task: AnyTask, history: Sequence[TrialRecord] = ()) -> Judged:
    """`task` as the objectives judge it: itself, or a Task's `judged_task_of(task, history)`."""
    return judged_task_of(task, history) if isinstance(task, Task) else task


def error(score: float, task: AnyTask) -> float:
    """The task's validation objective as an error in [0, 1] (lower is better)."""
    value = score if task.minimise else 1.0 - score
    return float(min(max(value, 0.0), 1.0))


def size(params: int, task: AnyTask) -> float:
    """A model's parameter count on [0, 1]: log scale, the task's `size_range` smallest to
    largest (0.0 if that range is one size: nothing to place it between)."""
    if isinstance(task, Task) and not task.searches_mlp:
        raise HpoError(
            f"task {task.name!r} builds models of its own: place their sizes on the range its"
            " trials built (hpo.analysis.tasks.judged_task_of(task, history))"
        )
    low, high = judged(task).size_range
    if low == high:
        return 0.0
    return float((math.log10(params) - math.log10(low)) / (math.log10(high) - math.log10(low)))


def front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated points (both coordinates minimised), in input order.

    Of points that are equal, only the first is kept. Written here because
    Optuna's own is private and works on trials, not points; it is a few lines.
    """
    keep = []
    for i, (a, b) in enumerate(points):
        dominated = any(
            (c <= a and d <= b and (c < a or d < b)) or ((c, d) == (a, b) and j < i)
            for j, (c, d) in enumerate(points)
        )
        if not dominated:
            keep.append(i)
    return keep


def hypervolume(points: Iterable[tuple[float, float]]) -> float:
    """The area dominated by `points` (on [0, 1]², minimised) up to `REFERENCE_POINT`."""
    from optuna._hypervolume import compute_hypervolume

    inside = [p for p in points if p[0] < REFERENCE_POINT[0] and p[1] < REFERENCE_POINT[1]]
    if not inside:
        return 0.0
    return float(compute_hypervolume(np.asarray(inside, float), np.asarray(REFERENCE_POINT)))


def trial_points(history: Sequence[TrialRecord], task: AnyTask) -> list[tuple[int, float, float]]:
    """(position in history, error, size) of every completed trial that has a size."""
    task = judged(task, history)
    out = []
    for i, h in enumerate(history):
        if h.completed and h.score is not None and h.params:
            out.append((i, error(h.score, task), size(h.params, task)))
    return out


def pareto_set(history: Sequence[TrialRecord], task: AnyTask) -> list[int]:
    """Positions in `history` of the trials on the accuracy-versus-size front."""
    points = trial_points(history, task)
    return [points[k][0] for k in front([(e, s) for _, e, s in points])]


def hypervolume_curve(history: Sequence[TrialRecord], task: AnyTask) -> list[float | None]:
    """The hypervolume of the trials so far, after each trial of `history` (None before any)."""
    points = {i: (e, s) for i, e, s in trial_points(history, task)}
    out: list[float | None] = []
    current: list[tuple[float, float]] = []  # the front so far: a new point changes it or not
    volume: float | None = None
    for i in range(len(history)):
        if i in points:
            a, b = points[i]
            if not any(c <= a and d <= b for c, d in current):  # not dominated, not a repeat
                current = [(a, b), *((c, d) for c, d in current if not (a <= c and b <= d))]
                volume = hypervolume(current)
            elif volume is None:
                volume = hypervolume(current)
        out.append(volume)
    return out


def attainment(
    histories: Sequence[Sequence[TrialRecord]], task: AnyTask, grid: ArrayLike
) -> np.ndarray:
    """The 50 % attainment curve over seeds (the empirical attainment function's median):
    at each size of `grid` (on [0, 1]), the lowest error that at least half the histories
    reached with a model of that size or smaller; NaN where fewer than half have one."""
    task = judged(task, [h for history in histories for h in history])
    sizes = np.asarray(grid, dtype=float)
    curves = np.full((len(histories), len(sizes)), np.inf)
    for k, history in enumerate(histories):
        for _, e, s in trial_points(history, task):
            curves[k, sizes >= s] = np.minimum(curves[k, sizes >= s], e)
    # The ceil(n/2)-th smallest per size: inf while fewer than half the seeds reach it.
    median = np.quantile(curves, 0.5, axis=0, method="inverted_cdf")
    return np.where(np.isfinite(median), median, np.nan)
