"""A live search over a table's grid, trials seeded by the replay's rule: what a replay stands for.

`run_live_on_grid(table, tuner, seed)` runs the cell live (Keras Tuner, the graph
engine, real training) with three changes from `hpo.run.cell.run_cell`: the
space is the table's grid (`declare_grid`, then hpo's `build_model`), each
trial is seeded with the table seed the replay's rule gives it
(`hpo.replay.space.table_seed`) instead of `hpo.tuners.trial_seed`, and every
seed trains on the table's split (its `split_seed`), as a replay looks it up.
For a full-fidelity tuner it then trains, trial by trial and epoch by epoch,
exactly what `replay_cell` looks up: tests/test_replay.py compares the two, and
benchmarks/live_replay.py on any table, seeds and profile. `first_difference`
says where a live record and its replay differ (None: they are the same).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hpo.experiment.results import CellResult
from hpo.replay.loop import check_table
from hpo.replay.space import declare_grid, table_seed
from hpo.tables.table import Table


def grid_model(hp: Any, table: Table) -> Any:
    """The model of a point of the table's grid: the grid's Choices first, then the task's
    build (hpo's MLP, or the task's own model)."""
    from hpo.engines.keras_fit import task_builder
    from hpo.experiment.tasks import get_task

    declare_grid(hp, table.grid)
    return task_builder(get_task(table.task))(hp)


@dataclass(frozen=True)
class OnGrid:
    """What makes a live search the twin of its replay on `table`: the grid's model, the
    table's trial-seed rule and its split. One process uses it (`run_live_on_grid`), and so
    does each Keras Tuner worker of a distributed one (`hpo.parallel.distributed`)."""

    table: Table

    @property
    def hypermodel(self) -> Callable[[Any], Any]:
        return functools.partial(grid_model, table=self.table)

    @property
    def trial_seeds(self) -> Callable[[int, int], int]:
        return functools.partial(table_seed, self.table.seeds)

    @property
    def split_seed(self) -> int:
        return int(self.table.meta.get("split_seed", 0))

    @property
    def threads(self) -> int | None:
        """TensorFlow's threads as the table's rows had them (one, in a build's worker
        processes), or None if not recorded: on some CPUs float32 sums round by thread
        count, and a live twin must train its rows exactly."""
        threads = sorted(set((self.table.meta.get("build") or {}).get("tf_threads") or [0]))
        return threads[0] if len(threads) == 1 and threads[0] > 0 else None


def run_live_on_grid(table: Table, tuner: str, seed: int, profile: str | None = None) -> CellResult:
    """The live record of `tuner` searching the table's grid on cell seed `seed`.

    `profile` as `replay_cell`'s: the table's unless given. Several workers:
    `hpo.parallel.distributed.run_distributed(cell, k, table=PATH)`.
    """
    from hpo.run.cell import run_cell

    cell = check_table(table, tuner, seed, profile)
    grid = OnGrid(table)
    return run_cell(
        cell,
        hypermodel=grid.hypermodel,
        trial_seeds=grid.trial_seeds,
        split_seed=grid.split_seed,
    )


# Scores computed differently live (sklearn or the task's function on the model's
# predictions, float64) and in the table (the metric in an eager pass, float32): equal to
# 1e-5, not == (for an accuracy, far below one test row).
FLOAT_SCORES = ("test_accuracy", "test_r2", "test_value")
SAME_SCORE_RTOL = 1e-5


def comparable(result: CellResult) -> dict[str, Any]:
    """A record without what a live run and its replay legitimately differ in."""
    d = result.without_times()
    for key in ("replay", "versions", "test_loss", "peak_rss_mb", *FLOAT_SCORES):
        d.pop(key, None)
    return d


def same_score(x: float | None, y: float | None) -> bool:
    """Whether a live and a tabulated score are the same, as FLOAT_SCORES are compared."""
    if x is None or y is None:
        return x is y
    return math.isclose(x, y, rel_tol=SAME_SCORE_RTOL)


def first_difference(live: CellResult, replayed: CellResult) -> str | None:
    """Where the two records first differ, in words; None if they are the same."""
    for key in ("test_loss", *FLOAT_SCORES):
        a_value, b_value = getattr(live, key), getattr(replayed, key)
        if not same_score(a_value, b_value):
            return f"{key} {a_value} against {b_value}"
    a, b = comparable(live), comparable(replayed)
    # The Pareto set's test scores: computed live (the task's score, float64) and tabulated
    # (float32), as FLOAT_SCORES are: equal to 1e-5; the rest of each entry with ==.
    scores_a = [e.pop("test_score", None) for e in a.get("pareto") or []]
    scores_b = [e.pop("test_score", None) for e in b.get("pareto") or []]
    for x, y in zip(scores_a, scores_b, strict=False):
        if not same_score(x, y):
            return f"a Pareto entry's test_score {x} against {y}"
    for key in sorted(a.keys() | b.keys()):
        if key == "history":
            for x, y in zip(a[key], b[key], strict=False):
                if x != y:
                    keys = sorted(k for k in x.keys() | y.keys() if x.get(k) != y.get(k))
                    return f"trial {x.get('trial_id')}: {', '.join(keys)}"
            if len(a[key]) != len(b[key]):
                return f"{len(a[key])} trials against {len(b[key])}"
        elif a.get(key) != b.get(key):
            return f"{key}: {a.get(key)} against {b.get(key)}"
    return None
