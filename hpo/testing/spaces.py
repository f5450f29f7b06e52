"""Any task's search space, drawn by hypothesis; and a one-epoch check that a task can be searched.

A task's space is whatever its `build_model(hp)` declares on Keras Tuner's
`HyperParameters`: Int, Float, Choice, Boolean and Fixed, conditional scopes,
and hyperparameters declared only for some values of others (a loop over
`hp.Int("layers", ...)`). `configurations(task)` draws from all of it, so a
test can hold a task to every point of its space, not only the defaults:

    @settings(max_examples=5, deadline=None)
    @given(configurations(my_task))
    def test_my_task_trains_anywhere_in_its_space(hp):
        check_task(my_task, hp)

`check_task` builds the model, checks that it is a compiled Keras model whose
output fits the task's labels, trains one epoch and checks that the loss is
finite and the objective is logged: the mistakes that otherwise fail every
trial of a search, one trial at a time. `check_model` is its cheap part
(no training), which a runner can call before a search starts.

Importing this module imports neither TensorFlow nor hypothesis; its functions
import what they need (`configurations` needs hypothesis, the `test` extra).
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo.errors import HpoError
from hpo.experiment.tasks import Task, get_task
from hpo.run.preflight import build_checked as _build
from hpo.run.preflight import check_model
from hpo.run.preflight import one_line as _one_line

if TYPE_CHECKING:
    from hypothesis.strategies import DrawFn, SearchStrategy

    from hpo.experiment.data import Splits

__all__ = ["CheckReport", "check_model", "check_task", "configurations", "declared_space"]

MAX_ROUNDS = 20  # draw-and-rebuild rounds to discover a dynamic space's hyperparameters
GRID_TOLERANCE = 1e-9  # a Float's max is on its step grid when within this many steps of it

Build = Callable[[Any], Any]  # build_model(hp) -> keras.Model
TaskOrBuild = Task | str | Any  # a Task, a task's name, a kt.HyperModel or build_model(hp)


@dataclass(frozen=True)
class CheckReport:
    """What one checked epoch gave: the model's trainable parameters, its training loss,
    and the value of the task's objective."""

    params: int
    loss: float
    objective: float


def declared_space(task_or_build: TaskOrBuild) -> Any:
    """The `kt.HyperParameters` a build declares when built with the defaults.

    Its `space` lists the hyperparameters (conditional ones included, active or not),
    its `values` the defaults of the active ones. A build that declares none cannot
    be searched: HpoError.
    """
    import keras_tuner as kt

    build, who = _resolve(task_or_build)
    hp = kt.HyperParameters()
    _build(build, hp, who)
    if not hp.space:
        raise HpoError(f"{who}: build_model declares no hyperparameters; a search needs one")
    return hp


def configurations(task_or_build: TaskOrBuild) -> SearchStrategy[Any]:
    """Hypothesis strategy of points of a task's (or build function's) space.

    Draws a `kt.HyperParameters` that the build has been run on: its `space` is what
    the build declared, its `values` hold exactly the active hyperparameters, each
    in its domain (an Int or a stepped Float on its grid, log-sampled ones drawn on
    a log scale), and building with it declares nothing new. A dynamic space is
    discovered round by round: values are drawn for the hyperparameters known,
    the model is rebuilt with them, and the newly declared ones are drawn, until
    no new one appears (at most `MAX_ROUNDS`, then HpoError).

    The space is read (by building the model) at the first draw, not here, so that
    creating the strategy imports nothing heavy.
    """
    from hypothesis import strategies as st

    known: dict[str, Any] = {}  # the build, its name and its default space, at the first draw

    @st.composite
    def draw_configuration(draw: DrawFn) -> Any:
        import keras_tuner as kt

        if not known:
            build, who = _resolve(task_or_build)
            with _random_state_kept():  # Keras draws seeds; hypothesis forbids that in a draw
                known.update(build=build, who=who, space=declared_space(task_or_build).space)
        build, who, space = known["build"], known["who"], known["space"]
        values: dict[str, Any] = {}
        for _ in range(MAX_ROUNDS):
            values = _assign(space, values, draw)
            hp = kt.HyperParameters()
            hp.values = dict(values)
            with _random_state_kept():
                _build(build, hp, who)
            active = {h.name for h in hp.space if hp.is_active(h)}
            if set(hp.values) == set(values) == active:
                _note(hp)
                return hp
            space = hp.space
        raise HpoError(
            f"{who}: the space still declares new hyperparameters after {MAX_ROUNDS} rounds"
        )

    return draw_configuration()


def check_task(task: Task | str, hp: Any = None, seed: int = 0) -> CheckReport:
    """Build the task's model for `hp` (default: the declared defaults), check it
    (`check_model`), train one epoch on the seed's train rows with its validation rows
    and the task's batch size, and check that the loss is finite and the task's
    objective is logged. HpoError (one line) names the first problem found.
    """
    import keras

    from hpo.engines.keras_fit import task_builder
    from hpo.experiment.data import load_splits

    task = get_task(task) if isinstance(task, str) else task
    who = f"task {task.name!r}"
    if hp is None:
        hp = declared_space(task)
    keras.utils.set_random_seed(seed)
    model = _build(task_builder(task), hp, who)
    splits = load_splits(seed, task)
    check_model(task, model, splits=splits)
    logs = _fit_one_epoch(task, hp, model, splits, who)
    loss = logs.get("loss")
    if loss is None:
        raise HpoError(f"{who}: training one epoch logged no loss")
    if not math.isfinite(loss):
        raise HpoError(f"{who}: the training loss is {loss} after one epoch")
    objective = logs.get(task.objective)
    if objective is None:
        raise HpoError(
            f"{who}: the model does not log {task.objective}; compile it with that metric"
            f" (it logs {', '.join(sorted(logs))})"
        )
    params = sum(math.prod(w.shape) for w in model.trainable_weights)
    if params == 0:
        raise HpoError(f"{who}: the model has no trainable weights")
    return CheckReport(params=int(params), loss=float(loss), objective=float(objective))


def _resolve(task_or_build: TaskOrBuild) -> tuple[Build, str]:
    """The build function, and how errors name it."""
    import keras_tuner as kt

    if isinstance(task_or_build, str):
        task_or_build = get_task(task_or_build)
    if isinstance(task_or_build, Task):
        from hpo.engines.keras_fit import task_builder

        return task_builder(task_or_build), f"task {task_or_build.name!r}"
    if isinstance(task_or_build, kt.HyperModel):
        return task_or_build.build, type(task_or_build).__name__
    if callable(task_or_build):
        return task_or_build, getattr(task_or_build, "__qualname__", repr(task_or_build))
    raise TypeError(
        f"expected a Task, a task's name, a HyperModel or build_model(hp); got"
        f" {type(task_or_build).__name__}"
    )


def _assign(space: list[Any], values: dict[str, Any], draw: DrawFn) -> dict[str, Any]:
    """Values of `space`'s active hyperparameters, in declaration order (a parent is declared
    before its conditional children): `values`' where it has one, else a new draw."""
    out: dict[str, Any] = {}
    for h in space:
        if h.name in out or not all(c.is_active(out) for c in h.conditions):
            continue
        out[h.name] = values[h.name] if h.name in values else draw(_domain(h))
    return out


def _domain(h: Any) -> SearchStrategy[Any]:
    """Hypothesis strategy of one hyperparameter's values."""
    from hypothesis import strategies as st
    from keras_tuner.engine import hyperparameters as hps

    if isinstance(h, hps.Fixed):
        return st.just(h.value)
    if isinstance(h, hps.Boolean):
        return st.booleans()
    if isinstance(h, hps.Choice):
        return st.sampled_from(list(h.values))
    if isinstance(h, (hps.Int, hps.Float)):
        if h.step is not None:
            return _on_grid(h)
        return _continuous(h, integer=isinstance(h, hps.Int))
    # Another kind of HyperParameter: its own map from [0, 1) to its values.
    return st.floats(0.0, 1.0, exclude_max=True).map(h.prob_to_value)


def _on_grid(h: Any) -> SearchStrategy[Any]:
    """A stepped Int or Float: `min + i*step` (linear), `min * step**i` (log), or
    `max + min - min * step**i` (reverse_log), for every i that stays within [min, max]."""
    from hypothesis import strategies as st
    from keras_tuner.engine import hyperparameters as hps

    lo, hi, step, sampling = h.min_value, h.max_value, h.step, h.sampling
    if isinstance(h, hps.Int):  # exact integer arithmetic
        if sampling == "linear":
            n = (hi - lo) // step + 1
        else:
            n = 1
            while lo * step**n <= hi:
                n += 1
    elif sampling == "linear":
        n = math.floor((hi - lo) / step + GRID_TOLERANCE) + 1
    else:
        n = math.floor(math.log(hi / lo) / math.log(step) + GRID_TOLERANCE) + 1

    def at(i: int) -> Any:
        if sampling == "linear":
            value = lo + i * step
        elif sampling == "log":
            value = lo * step**i
        else:
            value = hi + lo - lo * step**i
        return min(max(value, lo), hi)  # a float's rounding never leaves the range

    return st.integers(0, n - 1).map(at)


def _continuous(h: Any, *, integer: bool) -> SearchStrategy[Any]:
    """An unstepped Float (any value in [min, max]), or a log-sampled Int without a step;
    log and reverse_log sampling draw on a log scale."""
    from hypothesis import strategies as st

    lo, hi, sampling = h.min_value, h.max_value, h.sampling
    if sampling == "linear":  # an Int always has a step when linear
        return st.floats(float(lo), float(hi))
    top = hi + 1 if integer else hi  # an Int's values are the floors of [min, max + 1)
    bottom = math.log(lo)
    logs = st.floats(bottom, math.log(top), exclude_max=integer and top > lo)

    def value(t: float) -> Any:
        u = lo if t == bottom else math.exp(t)  # exp(log(min)) may miss min by a rounding
        if integer:
            u = math.floor(u)
        if sampling == "reverse_log":
            u = hi + lo - u
        return min(max(u, lo), hi)

    return logs.map(value)


@contextlib.contextmanager
def _random_state_kept() -> Iterator[None]:
    """Python's and NumPy's global random states as they were before."""
    state, np_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(state)
        np.random.set_state(np_state)


def _note(hp: Any) -> None:
    """Show the drawn values in a falsifying example (a HyperParameters' repr shows none)."""
    from hypothesis import currently_in_test_context, note

    if currently_in_test_context():
        note(f"hp.values = {hp.values!r}")


def _fit_one_epoch(task: Task, hp: Any, model: Any, splits: Splits, who: str) -> dict[str, float]:
    """The last epoch's logs of one epoch, trained as Keras Tuner would (the HyperModel's
    `fit` when the task has one, else `model.fit`)."""
    import keras_tuner as kt

    x, y = splits.x_train, splits.y_train
    kwargs: dict[str, Any] = {
        "validation_data": (splits.x_val, splits.y_val),
        "batch_size": task.batch_size,
        "epochs": 1,
        "verbose": 0,
    }
    try:
        if isinstance(task.hypermodel, kt.HyperModel):
            result = task.hypermodel.fit(hp, model, x, y, **kwargs)
        else:
            result = model.fit(x, y, **kwargs)
    except Exception as e:
        raise HpoError(f"{who}: training one epoch failed: {_one_line(e)}") from None
    history = getattr(result, "history", result)
    if isinstance(history, dict):  # a History's lists, or a HyperModel.fit's own dict
        return {
            k: float(v[-1] if isinstance(v, (list, tuple)) else v)
            for k, v in history.items()
            if not (isinstance(v, (list, tuple)) and not v)
        }
    if isinstance(result, (int, float)):  # a HyperModel.fit may return its objective only
        logs = model.evaluate(x, y, batch_size=task.batch_size, verbose=0, return_dict=True)
        return {"loss": float(logs["loss"]), task.objective: float(result)}
    raise HpoError(f"{who}: fit returned {type(result).__name__}, not a History or a dict")
