"""A table's grid as Keras Tuner hyperparameters, and which table seed a trial trains with.

`declare_grid(hp, grid)` declares the grid as `Choice`s named as hpo's space
names them (`hpo.experiment.space.declare`): `num_layers`, `units_0`..`units_2`
(each under `hp.conditional_scope("num_layers", [i+1, ..., 3])`, so only the
active layers' widths are drawn), `activation`, `dropout`, `learning_rate`.
Every tuner then searches a finite categorical space whose every point is a row
of the table. Declared before `hpo.experiment.model.build_model`'s own
`declare`, the Choices win (Keras Tuner keeps the first declaration of a name),
so a live search over the grid builds the same models.

`table_seed(seeds, cell_seed, index)` is the seed rule (`hpo.replay`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hpo.experiment.space import SPACE
from hpo.tables.grid import Grid

SEED_RULE = (
    "trial k of cell seed s trains with table seed"
    " seeds[SeedSequence([s, k]).generate_state(1)[0] % len(seeds)];"
    " a Hyperband continuation with its parent's"
)


def declare_grid(hp: Any, grid: Grid) -> None:
    """Declare `grid` on `hp` (Keras Tuner's HyperParameters) as Choice hyperparameters."""
    hp.Choice("num_layers", list(grid.num_layers), ordered=True)
    for i in range(SPACE.max_layers):
        # As hpo.experiment.space.declare: units_i is active exactly when i < num_layers.
        with hp.conditional_scope("num_layers", list(range(i + 1, SPACE.max_layers + 1))):
            hp.Choice(f"units_{i}", list(grid.units), ordered=True)
    hp.Choice("activation", list(grid.activation))
    hp.Choice("dropout", list(grid.dropout), ordered=True)
    hp.Choice("learning_rate", list(grid.learning_rate), ordered=True)


def table_seed(seeds: Sequence[int], cell_seed: int, index: int) -> int:
    """The table seed trial number `index` of cell seed `cell_seed` trains with."""
    draw = int(np.random.SeedSequence([cell_seed, index]).generate_state(1)[0])
    return int(seeds[draw % len(seeds)])
