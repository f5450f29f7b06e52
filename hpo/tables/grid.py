"""A finite grid of hpo's MLP space (`hpo.experiment.space.SPACE`): what a table trains.

A `Grid` holds a list of values per hyperparameter; its configurations are
every combination, with each hidden layer's width chosen independently among
`units`. `configs()` lists them in one fixed order, which is the order of a
table's first axis (configuration index):

    num_layers (outermost), units_0, units_1, ..., units_{num_layers-1},
    activation, dropout, learning_rate (innermost)

each hyperparameter taking its values in ascending order (activations in the
space's order: relu, tanh, sigmoid). A configuration is a dict of the active
hyperparameters only, named and typed as the space names them (`num_layers`,
`units_0`.., `activation`, `dropout`, `learning_rate`) -- what
`hpo.experiment.model.fixed_hyperparameters` takes and a live trial records.

The default grid, `GRID`: num_layers {1, 2, 3}, units {32, 128, 512} per layer
(3 + 9 + 27 = 39 shapes, from 32 to 512 units per layer, 1,025 to 541,697
parameters on Breast Cancer), 3 activations, dropout {0.0, 0.2, 0.5}, learning
rate {0.001, 0.01, 0.1}: 39 x 3 x 3 x 3 = 1,053 configurations. It spans every
axis of the space at its ends and middle (the space's extremes are where tuners
disagree: the smallest and largest models, no and heavy dropout, the learning
rate at which models diverge). Why not finer, by cost: a table trains every
configuration for a profile's full epochs under each seed, and an epoch is
ceil(train rows / 32) Adam steps -- 12 on Breast Cancer (364 train rows), 100
on MNIST-1D (3,200). The paper profile (50 epochs, 3 seeds) is then 1,053 x 3 x
50 = 157,950 epochs: 1.9 million steps on Breast Cancer, 15.8 million on
MNIST-1D. Each further value per layer of `units` multiplies the 3-layer part
(27 of the 39 shapes) by (k+1)^3/k^3: four widths would give 4+16+64 = 84
shapes, 2,268 configurations, 2.2 times the cost; a fourth dropout or
learning rate adds a third. Measured costs are in `hpo.tables.build`.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hpo.errors import HpoError
from hpo.experiment.records import searched
from hpo.experiment.space import SPACE, SearchSpace
from hpo.tables.config_grid import ConfigGrid

# The JSON keys of a grid, in configuration order (each a list of values).
KEYS = ("num_layers", "units", "activation", "dropout", "learning_rate")


@dataclass(frozen=True)
class Grid(ConfigGrid):
    """Values per hyperparameter; `configs()` is every combination, in the module's order.

    Values are checked against the space and kept sorted and unique, so two
    grids of the same values are equal whatever order they were given in.
    """

    num_layers: tuple[int, ...] = (1, 2, 3)
    units: tuple[int, ...] = (32, 128, 512)  # per hidden layer, chosen independently
    activation: tuple[str, ...] = ("relu", "tanh", "sigmoid")
    dropout: tuple[float, ...] = (0.0, 0.2, 0.5)
    learning_rate: tuple[float, ...] = (0.001, 0.01, 0.1)
    space: SearchSpace = field(default=SPACE, repr=False, compare=False)

    def __post_init__(self) -> None:
        space = self.space
        layers = range(space.min_layers, space.max_layers + 1)
        set_ = object.__setattr__  # frozen: normalised once, here
        set_(self, "num_layers", _ints("num_layers", self.num_layers, list(layers)))
        set_(self, "units", _ints("units", self.units, space.units_values))
        set_(self, "activation", _choices("activation", self.activation, space.activations))
        set_(self, "dropout", _on_grid("dropout", self.dropout, space.dropout_values))
        set_(
            self,
            "learning_rate",
            _choices("learning_rate", self.learning_rate, space.learning_rates, sort=True),
        )

    def __len__(self) -> int:
        """By arithmetic, so a grid too large to list is refused without listing it."""
        shapes = sum(len(self.units) ** n for n in self.num_layers)
        return shapes * len(self.activation) * len(self.dropout) * len(self.learning_rate)

    def index_of(self, config: Mapping[str, Any]) -> int:
        """The position of `config` in `configs()`; HpoError if it is not in the grid.

        Keys Keras Tuner adds (`tuner/...`) and widths of inactive layers
        (`units_i` for i >= num_layers, which a trial's values may hold) are ignored.
        """
        index = self._index.get(_key(config))
        if index is None:
            raise HpoError(f"configuration {_describe(config)} is not in the table's grid")
        return index

    KIND = "mlp"

    def group(self, config: Mapping[str, Any]) -> tuple[Any, ...]:
        """Rows of one group share the graph engine's traced graphs: depth and activation."""
        return (config["num_layers"], config["activation"])

    def declare(self, hp: Any) -> None:
        """Declare the grid on `hp` (Keras Tuner's HyperParameters) as Choices named as hpo's
        space names them (`hpo.experiment.space.declare`): `num_layers`, `units_0`..
        (each under `hp.conditional_scope("num_layers", [i+1, ..., max])`, so only the
        active layers' widths are drawn), `activation`, `dropout`, `learning_rate`.
        Declared before `build_model`'s own `declare`, the Choices win (Keras Tuner keeps
        the first declaration of a name), so a live search of the grid builds its models."""
        hp.Choice("num_layers", list(self.num_layers), ordered=True)
        for i in range(self.space.max_layers):
            with hp.conditional_scope("num_layers", list(range(i + 1, self.space.max_layers + 1))):
                hp.Choice(f"units_{i}", list(self.units), ordered=True)
        hp.Choice("activation", list(self.activation))
        hp.Choice("dropout", list(self.dropout), ordered=True)
        hp.Choice("learning_rate", list(self.learning_rate), ordered=True)

    def sizes(self) -> str:
        """How many values each hyperparameter has, in words."""
        return ", ".join(f"{key} {len(getattr(self, key))}" for key in KEYS)

    def to_json(self) -> dict[str, Any]:
        return {key: list(getattr(self, key)) for key in KEYS}

    @classmethod
    def from_json(cls, data: Any, source: str = "grid") -> Grid:
        """A grid from its JSON object; keys left out take the default grid's values."""
        if not isinstance(data, dict):
            raise HpoError(f"{source}: a grid is a JSON object of value lists ({', '.join(KEYS)})")
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise HpoError(
                f"{source}: unknown key(s) {', '.join(unknown)}; a grid has {', '.join(KEYS)}"
            )
        for key, values in data.items():
            if not isinstance(values, list) or not values:
                raise HpoError(f"{source}: {key} must be a non-empty list, got {values!r}")
        given: dict[str, Any] = {k: tuple(v) for k, v in data.items()}
        try:
            return cls(**given)
        except HpoError as e:
            raise HpoError(f"{source}: {e}") from None

    @functools.cached_property
    def _configs(self) -> tuple[dict[str, Any], ...]:
        out: list[dict[str, Any]] = []
        for n in self.num_layers:
            for widths in itertools.product(self.units, repeat=n):
                for activation, dropout, rate in itertools.product(
                    self.activation, self.dropout, self.learning_rate
                ):
                    config: dict[str, Any] = {"num_layers": n}
                    config.update({f"units_{i}": w for i, w in enumerate(widths)})
                    config.update(activation=activation, dropout=dropout, learning_rate=rate)
                    out.append(config)
        return tuple(out)

    @functools.cached_property
    def _index(self) -> dict[tuple[Any, ...], int]:
        return {_key(c): i for i, c in enumerate(self._configs)}


def _key(config: Mapping[str, Any]) -> tuple[Any, ...]:
    """A configuration as a hashable key: its active values, dropout rounded to the grid."""
    unknown = [
        k
        for k in config
        if not k.startswith("tuner/")
        and k not in ("num_layers", "activation", "dropout", "learning_rate")
        and not (k.startswith("units_") and k[6:].isdigit())
    ]
    if unknown:
        raise HpoError(
            f"configuration {_describe(config)}: {', '.join(sorted(unknown))} is not a"
            " hyperparameter of hpo's MLP space"
        )
    n = config.get("num_layers")
    if not isinstance(n, int) or isinstance(n, bool):
        return ("missing", repr(n))
    dropout = config.get("dropout")
    dropout = round(float(dropout), 9) if isinstance(dropout, (int, float)) else dropout
    rate = config.get("learning_rate")
    rate = float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else rate
    widths = tuple(config.get(f"units_{i}") for i in range(n))
    return (n, widths, config.get("activation"), dropout, rate)


def _describe(config: Mapping[str, Any]) -> str:
    return json.dumps(searched(config), default=str)


def _ints(name: str, values: Any, allowed: list[int]) -> tuple[int, ...]:
    values = _listed(name, values)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v not in allowed:
            raise HpoError(f"{name} value {v!r} is outside the space ({allowed[0]}..{allowed[-1]})")
    return tuple(sorted(set(values)))


def _choices(
    name: str, values: Any, allowed: tuple[Any, ...], sort: bool = False
) -> tuple[Any, ...]:
    values = _listed(name, values)
    for v in values:
        if isinstance(v, bool) or v not in allowed:
            raise HpoError(f"{name} value {v!r} is outside the space {list(allowed)}")
    # The space's own values (0.01, not 1e-2 given as another float of the same value).
    kept = [a for a in allowed if a in values]
    return tuple(sorted(kept) if sort else kept)


def _on_grid(name: str, values: Any, allowed: list[float]) -> tuple[float, ...]:
    values = _listed(name, values)
    out = set()
    for v in values:
        match = None
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            match = next((a for a in allowed if abs(v - a) < 1e-9), None)
        if match is None:
            raise HpoError(f"{name} value {v!r} is outside the space {allowed}")
        out.add(match)
    return tuple(sorted(out))


def _listed(name: str, values: Any) -> tuple[Any, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise HpoError(f"{name} must be a list of values, got {values!r}")
    values = tuple(values)
    if not values:
        raise HpoError(f"{name} needs at least one value")
    return values


GRID = Grid()  # the default grid: 1,053 configurations (see the module docstring)


def grid_from_json(data: Any, source: str = "grid") -> Any:
    """A table's grid from its JSON: hpo's MLP grid (`Grid`), or a task's own space's
    (`hpo.tables.space_grid.SpaceGrid`, whose JSON says `"kind": "space"`)."""
    if isinstance(data, dict) and data.get("kind") == "space":
        from hpo.tables.space_grid import SpaceGrid

        return SpaceGrid.from_json(data, source)
    return Grid.from_json(data, source)
