"""Any task's space drawn by hypothesis, and the one-epoch check that a task can be searched."""

from __future__ import annotations

import math
import subprocess
import sys

import keras
import keras_tuner as kt
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from hpo.errors import HpoError
from hpo.experiment.space import SPACE, param_count
from hpo.experiment.tasks import TASKS, Task
from hpo.testing import check_task, configurations, declared_space
from hpo.testing.spaces import check_model

DRAWS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The first example found, not shrunk: shrinking builds a model per step. Derandomized:
# the same draws whatever ran before in the process (one full run failed here once,
# not reproduced alone), and no health check may stop a search that only needs to
# reach a value.
FOUND = settings(
    max_examples=300,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
TRAINS = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BUILTIN_SPACES = {name: configurations(task) for name, task in TASKS.items()}


@DRAWS
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(TASKS))
def test_a_builtin_tasks_draws_are_in_hpos_own_space(name, data):
    hp = data.draw(BUILTIN_SPACES[name])
    values = {k: v for k, v in hp.values.items() if hp.is_active(k)}
    SPACE.validate(values)
    assert sorted(values) == sorted(SPACE.active_names(values["num_layers"]))
    assert values == hp.values  # no inactive hyperparameter has a value


def test_the_declared_space_holds_the_defaults():
    hp = declared_space(TASKS["wine"])
    assert hp.values == {
        "num_layers": 1,
        "units_0": 32,
        "activation": "relu",
        "dropout": 0.0,
        "learning_rate": 0.001,
    }
    assert {h.name for h in hp.space} == {*SPACE.active_names(3)}


# A space of every kind Keras Tuner has: each value is checked below against the
# declaration written out by hand, not by the strategy's own code.
DROPOUTS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
DECAYS = [1e-3, 1e-2, 1e-1, 1.0, 10.0]


def every_kind(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential([keras.Input((4,))])
    for i in range(hp.Int("layers", 1, 3, default=3)):  # units_i declared only when used
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 2, 64, sampling="log")))
    hp.Int("filters", 4, 64, step=2, sampling="log")
    hp.Int("batch", 8, 64, step=8)
    hp.Int("patience", 1, 100, sampling="reverse_log")
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Float("decay", 1e-3, 10.0, step=10, sampling="log")
    hp.Float("dropout", 0.0, 0.5, step=0.1)
    hp.Float("momentum", 0.5, 0.99)
    optimizer = hp.Choice("optimizer", ["adam", "sgd", "rmsprop"])
    with hp.conditional_scope("optimizer", ["sgd"]):
        hp.Boolean("nesterov")
        hp.Float("sgd_momentum", 0.0, 0.9, step=0.3)
    with hp.conditional_scope("optimizer", ["adam", "rmsprop"]):
        hp.Choice("epsilon", [1e-7, 1e-8])
    hp.Choice("width", [16, 32, 64])
    hp.Choice("flag", [True, False])
    hp.Boolean("batch_norm")
    hp.Fixed("seed", 7)
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=optimizer, loss="mse")
    return model


EVERY_KIND = configurations(every_kind)


def on_grid(value: float, grid: list[float]) -> bool:
    return any(math.isclose(value, g, rel_tol=1e-9, abs_tol=1e-12) for g in grid)


@DRAWS
@given(EVERY_KIND)
def test_a_space_of_every_kind_gives_active_in_domain_values(hp):
    v = hp.values
    layers = v["layers"]
    expected = {
        *(f"units_{i}" for i in range(layers)),
        *("layers", "filters", "batch", "patience", "lr", "decay", "dropout", "momentum"),
        *("optimizer", "width", "flag", "batch_norm", "seed"),
        *(["nesterov", "sgd_momentum"] if v["optimizer"] == "sgd" else ["epsilon"]),
    }
    assert set(v) == expected
    assert type(layers) is int and 1 <= layers <= 3
    for i in range(layers):
        assert type(v[f"units_{i}"]) is int and 2 <= v[f"units_{i}"] <= 64
    assert v["filters"] in (4, 8, 16, 32, 64)
    assert v["batch"] in range(8, 65, 8)
    assert type(v["patience"]) is int and 1 <= v["patience"] <= 100
    assert isinstance(v["lr"], float) and 1e-4 <= v["lr"] <= 1e-1
    assert 1e-3 <= v["decay"] <= 10.0 and on_grid(v["decay"], DECAYS)
    assert 0.0 <= v["dropout"] <= 0.5 and on_grid(v["dropout"], DROPOUTS)
    assert 0.5 <= v["momentum"] <= 0.99
    assert v["optimizer"] in ("adam", "sgd", "rmsprop")
    if v["optimizer"] == "sgd":
        assert type(v["nesterov"]) is bool
        assert 0.0 <= v["sgd_momentum"] <= 0.9 and on_grid(v["sgd_momentum"], [0.0, 0.3, 0.6, 0.9])
    else:
        assert v["epsilon"] in (1e-7, 1e-8)
    assert v["width"] in (16, 32, 64)
    assert v["flag"] in (True, False) and type(v["batch_norm"]) is bool
    assert v["seed"] == 7


@DRAWS
@given(EVERY_KIND)
def test_a_drawn_configuration_builds_and_declares_nothing_new(hp):
    again = kt.HyperParameters()
    again.values = dict(hp.values)
    every_kind(again)
    assert again.values == hp.values


def test_the_draws_reach_every_dynamic_and_conditional_hyperparameter():
    deepest = find(
        EVERY_KIND,
        lambda hp: {"units_2", "nesterov"} <= set(hp.values),
        settings=FOUND,
    )
    assert deepest.values["layers"] == 3 and deepest.values["optimizer"] == "sgd"
    adam = find(EVERY_KIND, lambda hp: hp.values["optimizer"] != "sgd", settings=FOUND)
    assert "epsilon" in adam.values and "nesterov" not in adam.values


# A task of the user's own: a 1-D convolution over random signals, three classes.
_rng = np.random.default_rng(0)
SIGNALS_X = _rng.normal(size=(150, 24, 1)).astype("float32")
SIGNALS_Y = np.arange(150) % 3


def conv_build(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential([keras.Input((24, 1))])
    for i in range(hp.Int("blocks", 1, 2)):
        model.add(keras.layers.Conv1D(hp.Int(f"filters_{i}", 4, 12, step=4), 3, activation="relu"))
    model.add(keras.layers.GlobalAveragePooling1D())
    model.add(keras.layers.Dense(3, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


SIGNALS = Task(name="signals", data=(SIGNALS_X, SIGNALS_Y), hypermodel=conv_build)


@TRAINS
@given(configurations("wine"))
def test_check_task_passes_anywhere_in_a_builtin_tasks_space(hp):
    report = check_task("wine", hp)
    assert report.params == param_count(hp.values, "wine")
    assert math.isfinite(report.loss) and 0.0 <= report.objective <= 1.0


@TRAINS
@given(configurations(SIGNALS))
def test_check_task_passes_anywhere_in_a_user_tasks_space(hp):
    report = check_task(SIGNALS, hp, seed=1)
    assert isinstance(report.params, int) and report.params > 0
    assert math.isfinite(report.loss)


def test_check_task_defaults_to_the_declared_defaults_and_a_hypermodels_fit():
    class Signals(kt.HyperModel):
        fitted = 0

        def build(self, hp):
            return conv_build(hp)

        def fit(self, hp, model, *args, **kwargs):
            Signals.fitted += 1
            return model.fit(*args, **kwargs)

    task = Task(name="signals", data=(SIGNALS_X, SIGNALS_Y), hypermodel=Signals())
    report = check_task(task)
    assert Signals.fitted == 1
    blocks_1_filters_4 = (3 * 1 + 1) * 4 + (4 + 1) * 3  # Conv1D(4, 3) on 1 channel, Dense(3)
    assert report.params == blocks_1_filters_4


# The mistakes a task can make, each one HpoError line naming it.
X10 = np.random.default_rng(1).normal(size=(100, 4)).astype("float32")
Y10 = np.arange(100) % 10  # ten classes


def dense(hp, units=10, activation="softmax", loss="sparse_categorical_crossentropy", **kw):
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu"),
            keras.layers.Dense(units, activation=activation),
        ]
    )
    model.compile(optimizer="adam", loss=loss, **kw)
    return model


def raises(hp):
    hp.Int("units", 4, 8)
    raise TypeError("build_model() got an unexpected keyword\nargument 'x'")


def returns_a_dict(hp):
    return {"units": hp.Int("units", 4, 8)}


def uncompiled(hp):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 4, 8))])


def one_sigmoid(hp):
    return dense(hp, units=1, activation="sigmoid", loss="binary_crossentropy")


def three_classes(hp):
    return dense(hp, units=3, metrics=["accuracy"])


def no_auc(hp):
    return dense(hp, metrics=["accuracy"])


def wrong_input(hp):
    model = keras.Sequential([keras.Input((7,)), keras.layers.Dense(hp.Int("units", 4, 8))])
    model.compile(loss="mse")
    return model


def diverges(hp):
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hp.Int("units", 4, 8)),
            keras.layers.Lambda(lambda t: t * float("inf")),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def declares_nothing(hp):
    return dense(kt.HyperParameters())  # its own hp: the one it is given stays empty


@pytest.mark.parametrize(
    ("build", "objective", "message"),
    [
        (raises, "val_loss", "task 'bad': building the model failed: TypeError: build_model()"),
        (returns_a_dict, "val_loss", "build_model returned dict, not a compiled Keras model"),
        (uncompiled, "val_loss", "is not compiled"),
        (one_sigmoid, "val_loss", "labels 0..9 but the model outputs 1 column"),
        (three_classes, "val_loss", "labels 0..9 but the model outputs 3 columns"),
        (no_auc, "val_auc", "the model does not log val_auc; compile it with that metric"),
        (
            wrong_input,
            "val_loss",
            "cannot take the task's features (rows of shape (4,)): ValueError: Input 0",
        ),
        (diverges, "val_loss", "the training loss is nan after one epoch"),
        (declares_nothing, "val_loss", "declares no hyperparameters"),
    ],
    ids=lambda p: getattr(p, "__name__", None),
)
def test_a_bad_task_is_one_error_line(build, objective, message):
    task = Task(name="bad", data=(X10, Y10), hypermodel=build, objective=objective)
    with pytest.raises(HpoError) as error:
        check_task(task)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_check_model_refuses_what_build_returns_before_training():
    task = Task(name="bad", data=(X10, Y10), hypermodel=returns_a_dict)
    with pytest.raises(HpoError, match="build_model returned None, not a compiled Keras model"):
        check_model(task, None)
    check_model(task, dense(kt.HyperParameters()))  # ten softmax columns fit labels 0..9


def test_a_regression_heads_integer_targets_are_not_classes():
    def regression(hp):
        return dense(hp, units=1, activation="linear", loss="mse")

    task = Task(name="counts", data=(X10, Y10), hypermodel=regression, objective="val_loss")
    assert check_task(task).params > 0


def test_an_empty_space_has_nothing_to_draw():
    @settings(max_examples=1, deadline=None, database=None)
    @given(configurations(declares_nothing))
    def draw(hp):
        pass

    with pytest.raises(HpoError, match="declares_nothing: build_model declares no hyperparameters"):
        draw()


def test_importing_the_module_imports_neither_tensorflow_nor_hypothesis():
    code = (
        "import sys, hpo.testing.spaces, hpo.testing;"
        "assert not {'tensorflow', 'keras', 'hypothesis'} & set(sys.modules), 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@TRAINS
@given(configurations("examples.signals:task"))
def test_the_docs_example_task_trains_anywhere_in_its_space(hp):
    """docs/your-task.md's example: every drawn point builds, trains an epoch, fits its labels."""
    report = check_task("examples.signals:task", hp)
    assert report.params >= 244 and math.isfinite(report.loss)
