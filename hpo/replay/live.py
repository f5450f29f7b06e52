"""A live search over a table's grid, trials seeded by the replay's rule: what a replay stands for.

`run_live_on_grid(table, tuner, seed)` runs the cell live (Keras Tuner, the graph
engine, real training) with three changes from `hpo.run.cell.run_cell`: the
space is the table's grid (`declare_grid`, then hpo's `build_model`), each
trial is seeded with the table seed the replay's rule gives it
(`hpo.replay.space.table_seed`) instead of `hpo.tuners.trial_seed`, and every
seed trains on the table's split (its `split_seed`), as a replay looks it up.
For a full-fidelity tuner it then trains, trial by trial and epoch by epoch,
exactly what `replay_cell` looks up: tests/test_replay.py compares the two, and
benchmarks/live_replay.py on any table, seeds and profile.
"""

from __future__ import annotations

import functools
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


def run_live_on_grid(table: Table, tuner: str, seed: int, profile: str | None = None) -> CellResult:
    """The live record of `tuner` searching the table's grid on cell seed `seed`.

    `profile` as `replay_cell`'s: the table's unless given.
    """
    from hpo.run.cell import run_cell

    cell = check_table(table, tuner, seed, profile)
    return run_cell(
        cell,
        hypermodel=functools.partial(grid_model, table=table),
        trial_seeds=functools.partial(table_seed, table.seeds),
        split_seed=int(table.meta.get("split_seed", 0)),
    )
