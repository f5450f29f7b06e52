"""The seed report's search space, declared once as data; model sizes as pure functions.

The hidden layers are searched; the input width, output layer and loss are the
task's (`hpo.experiment.tasks`). Nothing here imports Keras: `declare` is given
Keras Tuner's `HyperParameters` to fill, and the report's size axis
(`param_count`, `param_range`) is arithmetic on the hyperparameters.

`SPACE` is read by `hpo.experiment.model.build_model`, by the tests and by the
report, so the space cannot drift between what is searched and what is described.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hpo.errors import HpoError
from hpo.experiment.profiles import DEFAULT_TASK
from hpo.experiment.tasks import Task, get_task


@dataclass(frozen=True)
class SearchSpace:
    """Ranges of the MLP's hyperparameters (inclusive bounds)."""

    min_layers: int = 1
    max_layers: int = 3
    min_units: int = 32
    max_units: int = 512
    units_step: int = 32
    activations: tuple[str, ...] = ("relu", "tanh", "sigmoid")
    min_dropout: float = 0.0
    max_dropout: float = 0.5
    dropout_step: float = 0.1
    learning_rates: tuple[float, ...] = (0.001, 0.01, 0.1)

    @property
    def units_values(self) -> list[int]:
        return list(range(self.min_units, self.max_units + 1, self.units_step))

    @property
    def dropout_values(self) -> list[float]:
        n = round((self.max_dropout - self.min_dropout) / self.dropout_step)
        return [round(self.min_dropout + i * self.dropout_step, 10) for i in range(n + 1)]

    def active_names(self, num_layers: int) -> list[str]:
        """Names of the hyperparameters that are active for `num_layers` hidden layers."""
        units = [f"units_{i}" for i in range(num_layers)]
        return ["num_layers", *units, "activation", "dropout", "learning_rate"]

    def validate(self, values: Mapping[str, Any]) -> None:
        """Raise HpoError naming the first value outside the space (or a missing one)."""
        num_layers = values.get("num_layers")
        if not _is_int(num_layers) or num_layers not in range(self.min_layers, self.max_layers + 1):
            raise HpoError(
                f"num_layers={num_layers!r} is outside the space "
                f"({self.min_layers}..{self.max_layers})"
            )
        assert isinstance(num_layers, int)  # checked just above
        for i in range(num_layers):
            units = values.get(f"units_{i}")
            if not _is_int(units) or units not in self.units_values:
                raise HpoError(
                    f"units_{i}={units!r} is outside the space ({self.min_units}..{self.max_units}"
                    f" in steps of {self.units_step})"
                )
        if values.get("activation") not in self.activations:
            raise HpoError(
                f"activation={values.get('activation')!r} is outside the space {self.activations}"
            )
        dropout = values.get("dropout")
        if not any(
            isinstance(dropout, (int, float)) and abs(dropout - d) < 1e-9
            for d in self.dropout_values
        ):
            raise HpoError(f"dropout={dropout!r} is outside the space {self.dropout_values}")
        if values.get("learning_rate") not in self.learning_rates:
            raise HpoError(
                f"learning_rate={values.get('learning_rate')!r} is outside the space "
                f"{self.learning_rates}"
            )


SPACE = SearchSpace()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def declare(hp: Any, space: SearchSpace = SPACE) -> dict[str, Any]:
    """Declare the space on `hp` (Keras Tuner's HyperParameters) and return the active values."""
    num_layers = hp.Int("num_layers", space.min_layers, space.max_layers)
    values: dict[str, Any] = {"num_layers": num_layers}
    for i in range(space.max_layers):
        # units_i is active exactly when i < num_layers.
        parents = list(range(i + 1, space.max_layers + 1))
        with hp.conditional_scope("num_layers", parents):
            units = hp.Int(f"units_{i}", space.min_units, space.max_units, step=space.units_step)
        if i < num_layers:
            values[f"units_{i}"] = units
    values["activation"] = hp.Choice("activation", list(space.activations))
    values["dropout"] = hp.Float(
        "dropout", space.min_dropout, space.max_dropout, step=space.dropout_step
    )
    values["learning_rate"] = hp.Choice("learning_rate", list(space.learning_rates))
    return values


def param_count(values: Mapping[str, Any], task: Task | str = DEFAULT_TASK) -> int:
    """Trainable parameters of the model `build_model` makes from `values` (weights and biases).

    A pure function of the hyperparameters and the task: the size objective of
    the accuracy-versus-size Pareto search, the same on every machine.
    """
    task = get_task(task) if isinstance(task, str) else task
    widths = [task.n_features, *(values[f"units_{i}"] for i in range(values["num_layers"]))]
    widths.append(task.mlp_head.units)
    return sum((a + 1) * b for a, b in zip(widths, widths[1:], strict=False))


def param_range(task: Task | str = DEFAULT_TASK, space: SearchSpace = SPACE) -> tuple[int, int]:
    """The smallest and largest model of the space for `task`, in parameters."""
    smallest = {"num_layers": space.min_layers, "units_0": space.min_units}
    largest: dict[str, Any] = {"num_layers": space.max_layers}
    largest.update({f"units_{i}": space.max_units for i in range(space.max_layers)})
    return param_count(smallest, task), param_count(largest, task)
