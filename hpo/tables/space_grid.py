"""A grid of any task's own search space: the tree its HyperModel declares, at a few values
of each hyperparameter (`SpaceGrid`), what `hpo tabulate --task MODULE:ATTR` trains.

The space is read by building the task's model (`declared_space`), as a Keras Tuner
search does before its first trial; hyperparameters a build declares only for some values
of others (in a loop, or under a conditional scope) are found by building again with
configurations of the grid so far, until no new one appears (as
`hpo.testing.configurations` discovers a space).

Each hyperparameter is an `Axis` of values:
- a `Fixed` one its value; a `Boolean` both values; a `Choice` every value;
- an `Int` or a `Float` the values a grid file gives for it (`--grid FILE`, a JSON
  object whose keys are hyperparameters' names), or else `LEVELS` values on its own
  scale: its minimum, middle and maximum -- the middle geometric where it samples on a
  log scale, and every value on its step grid (an Int's step is 1 by default) where
  that grid has `LEVELS` values or fewer.

A configuration holds the values of its active hyperparameters only: a conditional
hyperparameter (Keras Tuner's `conditional_scope`) takes values only where its
parents' values make it active, so the grid is the space's tree, not the product of
its axes. Configurations are enumerated depth first in declaration order, each axis's
values in the order listed: that is the order of a table's first axis.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hpo.errors import HpoError
from hpo.experiment.records import searched
from hpo.tables.config_grid import ConfigGrid

LEVELS = 3  # values per Int or Float axis unless a grid file gives them
DISCOVERY_ROUNDS = 20  # rebuilds to find hyperparameters declared only for some values
DISCOVERY_SAMPLE = 8  # configurations rebuilt per round, beside the grid's first and last
KINDS = ("fixed", "boolean", "choice", "int", "float")


def _normal(value: Any) -> Any:
    """A value as grid keys compare it: bools, ints, strings as they are; floats to 12
    significant digits (a tuner's 0.30000000000000004 is the grid's 0.3)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(f"{value:.12g}")
    try:  # NumPy scalars
        return _normal(value.item())
    except AttributeError:
        return value


@dataclass(frozen=True)
class Axis:
    """One hyperparameter as the grid takes it: its values, and the parents' values (every
    condition must hold) under which it is active."""

    name: str
    kind: str
    values: tuple[Any, ...]
    conditions: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def active(self, config: Mapping[str, Any]) -> bool:
        """Whether the axis takes a value in a configuration holding `config`'s values."""
        return all(
            parent in config and _normal(config[parent]) in {_normal(v) for v in values}
            for parent, values in self.conditions
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "values": list(self.values),
            "conditions": [[parent, list(values)] for parent, values in self.conditions],
        }

    @classmethod
    def from_json(cls, data: Any) -> Axis:
        if not (
            isinstance(data, dict)
            and isinstance(data.get("name"), str)
            and data.get("kind") in KINDS
            and isinstance(data.get("values"), list)
            and data["values"]
        ):
            raise HpoError(f"not an axis of a grid: {str(data)[:80]}")
        conditions = tuple((str(p), tuple(v)) for p, v in data.get("conditions") or [])
        return cls(data["name"], data["kind"], tuple(data["values"]), conditions)


@dataclass(frozen=True)
class SpaceGrid(ConfigGrid):
    """Values per hyperparameter of a declared space; `configs()` walks its tree (depth
    first, in declaration order).

    The same interface as the MLP's `hpo.tables.grid.Grid` (`len`, `configs`, `config` and
    `dumps` from their `ConfigGrid`): `index_of`, `to_json`/`from_json`, `declare` (the
    grid as Keras Tuner hyperparameters, for a replay or a live search of the grid).
    """

    axes: tuple[Axis, ...]

    KIND = "space"

    def __post_init__(self) -> None:
        names = [a.name for a in self.axes]
        if len(set(names)) != len(names):
            raise HpoError(f"a grid names a hyperparameter twice: {names}")
        if not self._configs:
            raise HpoError("the grid has no configuration")

    def index_of(self, config: Mapping[str, Any]) -> int:
        """The position of `config` (its active values; `tuner/` keys and inactive
        hyperparameters are ignored) in `configs()`; HpoError if it is not in the grid."""
        values = searched(config)
        unknown = sorted(set(values) - {a.name for a in self.axes})
        if unknown:
            raise HpoError(
                f"configuration {_describe(values)}: {', '.join(unknown)} is not a"
                " hyperparameter of the table's grid"
            )
        index = self._index.get(self._key(values))
        if index is None:
            raise HpoError(f"configuration {_describe(values)} is not in the table's grid")
        return index

    def group(self, config: Mapping[str, Any]) -> tuple[Any, ...]:
        """Rows of one group share traced graphs (the MLP's depth and activation); a task's
        own models are traced one by one, so its rows form one group."""
        return ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.KIND, "axes": [a.to_json() for a in self.axes]}

    @classmethod
    def from_json(cls, data: Any, source: str = "grid") -> SpaceGrid:
        if not (isinstance(data, dict) and data.get("kind") == cls.KIND):
            raise HpoError(f"{source}: not a grid of a task's space")
        try:
            return cls(tuple(Axis.from_json(a) for a in data.get("axes") or []))
        except HpoError as e:
            raise HpoError(f"{source}: {e}") from None

    def declare(self, hp: Any) -> None:
        """Declare the grid on `hp` (Keras Tuner's HyperParameters): each axis a Choice of its
        values (ordered for Ints and Floats), a Boolean of both values, a Fixed of one,
        under its conditions. Declared before the task's own build, these win (Keras
        Tuner keeps a name's first declaration), so every proposal is a grid point."""
        for axis in self.axes:
            with _Scopes(hp, axis.conditions):
                if len(axis.values) == 1:
                    hp.Fixed(axis.name, axis.values[0])
                elif axis.kind == "boolean":
                    hp.Boolean(axis.name)
                else:
                    hp.Choice(axis.name, list(axis.values), ordered=axis.kind in ("int", "float"))

    def sizes(self) -> str:
        """How many values each axis has, in words: what makes the grid's size."""
        return ", ".join(f"{a.name} {len(a.values)}" for a in self.axes if len(a.values) > 1)

    def _key(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        active: dict[str, Any] = {}
        for axis in self.axes:
            if axis.active(active) and axis.name in values:
                active[axis.name] = values[axis.name]
        return tuple((k, _normal(v)) for k, v in active.items())

    @functools.cached_property
    def _configs(self) -> tuple[dict[str, Any], ...]:
        out: list[dict[str, Any]] = []

        def walk(i: int, config: dict[str, Any]) -> None:
            if i == len(self.axes):
                out.append(dict(config))
                return
            axis = self.axes[i]
            if not axis.active(config):
                walk(i + 1, config)
                return
            for value in axis.values:
                config[axis.name] = value
                walk(i + 1, config)
            del config[axis.name]

        walk(0, {})
        return tuple(out)

    @functools.cached_property
    def _index(self) -> dict[tuple[Any, ...], int]:
        return {self._key(c): i for i, c in enumerate(self._configs)}


class _Scopes:
    """Nested conditional scopes, one per condition (Keras Tuner's take one parent each)."""

    def __init__(self, hp: Any, conditions: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        self.scopes = [hp.conditional_scope(parent, list(values)) for parent, values in conditions]

    def __enter__(self) -> None:
        for scope in self.scopes:
            scope.__enter__()

    def __exit__(self, *exc: Any) -> None:
        for scope in reversed(self.scopes):
            scope.__exit__(*exc)


def _describe(values: Mapping[str, Any]) -> str:
    return json.dumps(dict(values), default=str)


# ---------------------------------------------------------------- from a task's space


def levels(hp: Any, n: int = LEVELS) -> tuple[Any, ...]:
    """The grid's default values of a Keras Tuner hyperparameter (see the module)."""
    from keras_tuner.engine import hyperparameters as hps

    if isinstance(hp, hps.Fixed):
        return (hp.value,)
    if isinstance(hp, hps.Boolean):
        return (False, True)
    if isinstance(hp, hps.Choice):
        return tuple(hp.values)
    if not isinstance(hp, (hps.Int, hps.Float)):
        raise HpoError(
            f"hyperparameter {hp.name!r}: a {type(hp).__name__} has no grid values;"
            " give them in the grid file"
        )
    low, high, step = hp.min_value, hp.max_value, hp.step
    integer = isinstance(hp, hps.Int)
    if integer and step is None:
        step = 1
    log = hp.sampling == "log"
    if step is not None and not log:
        count = int(math.floor((high - low) / step + 1e-9)) + 1
        grid = [low + i * step for i in range(count)]
        grid = [int(v) for v in grid] if integer else [float(f"{v:.12g}") for v in grid]
        if len(grid) <= n:
            return tuple(grid)
        picks = [round(i * (len(grid) - 1) / (n - 1)) for i in range(n)]
        return tuple(grid[i] for i in picks)
    if log:
        if low <= 0:
            raise HpoError(f"hyperparameter {hp.name!r}: a log scale needs a minimum above 0")
        points = [low * (high / low) ** (i / (n - 1)) for i in range(n)]
    else:
        points = [low + (high - low) * i / (n - 1) for i in range(n)]
    if integer:
        return tuple(dict.fromkeys(int(round(p)) for p in points))
    return tuple(dict.fromkeys(float(f"{p:.3g}") if 0 < i < n - 1 else float(p)
                               for i, p in enumerate(points)))  # fmt: skip


def check_value(hp: Any, value: Any, source: str) -> Any:
    """`value` if it lies in `hp`'s domain (on its step, for a stepped one); else HpoError."""
    from keras_tuner.engine import hyperparameters as hps

    where = f"{source}: {hp.name} value {value!r}"
    if isinstance(hp, hps.Fixed):
        if _normal(value) != _normal(hp.value):
            raise HpoError(f"{where} is not its fixed value {hp.value!r}")
        return hp.value
    if isinstance(hp, hps.Boolean):
        if not isinstance(value, bool):
            raise HpoError(f"{where} is not true or false")
        return value
    if isinstance(hp, hps.Choice):
        match = [v for v in hp.values if _normal(v) == _normal(value) and type(v) is type(value)]
        if not match and not (
            isinstance(value, int) and any(isinstance(v, float) for v in hp.values)
        ):
            raise HpoError(f"{where} is not one of its values {list(hp.values)}")
        return match[0] if match else float(value)
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not numeric or not math.isfinite(value):
        raise HpoError(f"{where} is not a number")
    if isinstance(hp, hps.Int) and not float(value).is_integer():
        raise HpoError(f"{where} is not an integer")
    if not hp.min_value <= value <= hp.max_value:
        raise HpoError(f"{where} is outside [{hp.min_value}, {hp.max_value}]")
    step = hp.step if hp.step is not None or isinstance(hp, hps.Float) else 1
    if step is not None and hp.sampling == "linear":
        k = (value - hp.min_value) / step
        if abs(k - round(k)) > 1e-9:
            raise HpoError(f"{where} is not on its step {step} from {hp.min_value}")
    return int(value) if isinstance(hp, hps.Int) else float(value)


def _kind(hp: Any) -> str:
    from keras_tuner.engine import hyperparameters as hps

    for cls, kind in ((hps.Fixed, "fixed"), (hps.Boolean, "boolean"), (hps.Choice, "choice"),
                      (hps.Int, "int"), (hps.Float, "float")):  # fmt: skip
        if isinstance(hp, cls):
            return kind
    return type(hp).__name__.lower()


def grid_of_space(
    space: Sequence[Any], given: Mapping[str, Any] | None = None, source: str = "grid"
) -> SpaceGrid:
    """The grid of a declared space (Keras Tuner hyperparameters, in declaration order):
    each one at the values `given` lists for it, else at its default `levels`. HpoError
    (one line) for a name `given` has that the space has not, or a value outside its
    hyperparameter's domain."""
    given = dict(given or {})
    names = {hp.name for hp in space}
    unknown = sorted(set(given) - names)
    if unknown:
        raise HpoError(
            f"{source}: {', '.join(map(repr, unknown))} is not a hyperparameter of the task's"
            f" space ({', '.join(hp.name for hp in space)})"
        )
    axes = []
    for hp in space:
        if hp.name in given:
            listed = given[hp.name]
            if isinstance(listed, (str, bytes)) or not isinstance(listed, list) or not listed:
                raise HpoError(f"{source}: {hp.name} must be a non-empty list of values")
            values = tuple(dict.fromkeys(check_value(hp, v, source) for v in listed))
        else:
            values = levels(hp)
        conditions = tuple((c.name, tuple(c.values)) for c in getattr(hp, "conditions", []))
        axes.append(Axis(hp.name, _kind(hp), values, conditions))
    return SpaceGrid(tuple(axes))


def declared_space(task: Any) -> list[Any]:
    """Every hyperparameter the task's build declares, in declaration order: the build with
    its defaults, then builds with configurations of the grid so far, until a round finds
    no new one (HpoError after `DISCOVERY_ROUNDS`)."""
    import keras
    import keras_tuner as kt

    from hpo.engines.keras_fit import task_builder
    from hpo.run.preflight import build_checked
    from hpo.run.search import defaults_for_missing_values

    build, who = task_builder(task), f"task {task.name!r}"
    with defaults_for_missing_values():
        hp = kt.HyperParameters()
        build_checked(build, hp, who)
        space = list(hp.space)
        if not space:
            raise HpoError(f"{who}: its build declares no hyperparameters; a table needs one")
        rng = random.Random(0)
        for _ in range(DISCOVERY_ROUNDS):
            configs = grid_of_space(space).configs()
            drawn = rng.sample(configs, min(len(configs), DISCOVERY_SAMPLE))
            sample = [configs[0], configs[-1], *drawn]
            known = {h.name for h in space}
            grown = False
            for config in sample:
                keras.backend.clear_session()
                hp = kt.HyperParameters()
                hp.values = dict(config)
                # A configuration whose model cannot be built is a failed row later; what it
                # declared before failing still counts.
                with contextlib.suppress(Exception):
                    build(hp)
                if any(h.name not in known for h in hp.space):
                    space = _merged(space, list(hp.space))
                    known = {h.name for h in space}
                    grown = True
            if not grown:
                keras.backend.clear_session()
                return space
    raise HpoError(f"{who}: its build still declares new hyperparameters after"
                   f" {DISCOVERY_ROUNDS} rounds")  # fmt: skip


def _merged(known: list[Any], seen: list[Any]) -> list[Any]:
    """`known` with the hyperparameters of `seen` it lacks, each after its predecessor in
    `seen` (declaration order: a parent before its children)."""
    out = list(known)
    names = [h.name for h in out]
    previous = None
    for h in seen:
        if h.name not in names:
            at = names.index(previous) + 1 if previous in names else len(out)
            out.insert(at, h)
            names.insert(at, h.name)
        previous = h.name
    return out
