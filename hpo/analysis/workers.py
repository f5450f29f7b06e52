"""Several workers per search: one tuner across k workers, and tuners at one k.

A record says how many workers shared its search (`CellResult.workers`: Keras Tuner's
chief and workers live, or a replay's simulated asynchronous workers). Records of the same
tuner at several k are compared as arms of their own, named `TUNER@k` for k > 1
(`as_arms`), so every test of the report compares them as it compares tuners: test score
and search time pair by pair, ranks, and regret and ranks against the budget in seconds
of each search's own (simulated) wall clock.

For each tuner run at k = 1 and at other k, `across_workers` adds, per task:
- the median search time (wall clock of k workers) and the speed-up against k = 1, the
  median over seeds of t(1) / t(k);
- the time to reach the tuner's own single-worker result: the median over seeds of the
  first moment its incumbent (best validation objective so far) reaches the first quartile
  of the final incumbents of its k = 1 searches (the result three in four single-worker
  searches reach), and on how many seeds it did.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TypedDict

import numpy as np

from hpo.analysis.tasks import JudgedTask
from hpo.experiment.results import CellResult, Results


def arm(cell: CellResult) -> str:
    """The name a record is compared under: its tuner, or `TUNER@k` for k > 1 workers."""
    return cell.tuner if cell.workers == 1 else f"{cell.tuner}@{cell.workers}"


def as_arms(results: Results) -> Results:
    """`results` with each record of k > 1 workers renamed `TUNER@k`, when the records mix
    worker counts (otherwise unchanged: a report of one k names its tuners plainly)."""
    if len({c.workers for c in results.cells}) < 2:
        return results
    cells = [dataclasses.replace(c, tuner=arm(c)) if c.workers > 1 else c for c in results.cells]
    return dataclasses.replace(results, cells=cells)


class AtWorkers(TypedDict):
    """One tuner at k workers on one task."""

    workers: int
    seeds: int
    median_time_s: float
    speedup: float | None  # median over seeds of t(1) / t(k)
    target: float  # the first quartile of the tuner's final incumbents at k = 1
    median_time_to_target_s: float | None  # None: reached on fewer than half the seeds
    reached: int  # seeds on which the incumbent reached the target


class AcrossWorkers(TypedDict):
    """Per task and tuner, the tuner at each k."""

    per_task: dict[str, dict[str, list[AtWorkers]]]


def time_to(cell: CellResult, target: float, minimise: bool) -> float | None:
    """When the cell's incumbent first reaches `target` (on its clock), or None."""
    best = math.inf if minimise else -math.inf
    for h in cell.history:
        if h.score is None:
            continue
        best = min(best, h.score) if minimise else max(best, h.score)
        if (best <= target) if minimise else (best >= target):
            return h.elapsed_s
    return None


def _final(cell: CellResult, minimise: bool) -> float:
    scores = [h.score for h in cell.history if h.score is not None]
    if not scores:
        return math.nan
    return min(scores) if minimise else max(scores)


def across_workers(
    per_task: Mapping[str, Sequence[CellResult]], judged: Mapping[str, JudgedTask]
) -> AcrossWorkers | None:
    """Each tuner run at k = 1 and at other k, on each task (records as loaded, not renamed);
    None if no tuner was."""
    out: dict[str, dict[str, list[AtWorkers]]] = {}
    for name, cells in per_task.items():
        minimise = judged[name].minimise
        for tuner in dict.fromkeys(c.tuner for c in cells):
            mine = [c for c in cells if c.tuner == tuner]
            ks = sorted({c.workers for c in mine})
            if 1 not in ks or len(ks) < 2:
                continue
            one = {c.seed: c for c in mine if c.workers == 1}
            finals = [_final(c, minimise) for c in one.values()]
            target = float(np.percentile(finals, 75 if minimise else 25))
            rows: list[AtWorkers] = []
            for k in ks:
                at = {c.seed: c for c in mine if c.workers == k}
                times = [c.wall_time_s for c in at.values()]
                ratios = [
                    one[s].wall_time_s / c.wall_time_s
                    for s, c in at.items()
                    if s in one and c.wall_time_s > 0
                ]
                reach = [time_to(c, target, minimise) for c in at.values()]
                reached = [t for t in reach if t is not None]
                most = len(reached) * 2 > len(reach)  # then the median is a finite time
                rows.append(
                    {
                        "workers": k,
                        "seeds": len(at),
                        "median_time_s": float(np.median(times)),
                        "speedup": float(np.median(ratios)) if ratios else None,
                        "target": target,
                        # the median over all seeds, a seed that never reached it counted as
                        # later than any that did: defined when more than half reached it
                        "median_time_to_target_s": float(
                            np.median([math.inf if t is None else t for t in reach])
                        )
                        if most
                        else None,
                        "reached": len(reached),
                    }
                )
            out.setdefault(name, {})[tuner] = rows
    return {"per_task": out} if out else None
