"""A table's grid as Keras Tuner hyperparameters, and which table seed a trial trains with.

`declare_grid(hp, grid)` declares the grid as `Choice`s: hpo's MLP grid named as
hpo's space names them (`hpo.tables.grid.Grid.declare`), a task's own space's with
its hyperparameters' names under their conditional scopes
(`hpo.tables.space_grid.SpaceGrid.declare`). Every tuner then searches a finite
categorical space whose every point is a row of the table. Declared before the
model's own build, the Choices win (Keras Tuner keeps the first declaration of a
name), so a live search over the grid builds the same models.

`table_seed(seeds, cell_seed, index)` is the seed rule (`hpo.replay`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SEED_RULE = (
    "trial k of cell seed s trains with table seed"
    " seeds[SeedSequence([s, k]).generate_state(1)[0] % len(seeds)];"
    " a Hyperband continuation with its parent's"
)


def declare_grid(hp: Any, grid: Any) -> None:
    """Declare `grid` (hpo's MLP grid, or a task's own space's) on `hp` (Keras Tuner's
    HyperParameters) as Choices under their conditional scopes (`grid.declare`)."""
    grid.declare(hp)


def table_seed(seeds: Sequence[int], cell_seed: int, index: int) -> int:
    """The table seed trial number `index` of cell seed `cell_seed` trains with."""
    draw = int(np.random.SeedSequence([cell_seed, index]).generate_state(1)[0])
    return int(seeds[draw % len(seeds)])
