"""Tasks a user might bring, good and bad, for tests/test_user_tasks.py (imported by name:
`tests.user_tasks:ATTR`, as `hpo run --task` would)."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np

import hpo


def signals(n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    """Three classes of 16-step signals: which half has the larger mean, or neither."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 16, 1)).astype("float32")
    y = (x[:, :8, 0].mean(axis=1) > 0).astype(int) + (x[:, 8:, 0].mean(axis=1) > 0).astype(int)
    return x, y


def conv(hp: object) -> keras.Model:
    """A Conv1D model: not the graph engine's kind, so Keras' fit trains it."""
    model = keras.Sequential(
        [
            keras.Input((16, 1)),
            keras.layers.Conv1D(hp.Int("filters", 4, 12, step=4), 3, activation="relu"),  # type: ignore[attr-defined]
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Choice("lr", [0.01, 0.003])),  # type: ignore[attr-defined]
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def mlp(hp: object) -> keras.Model:
    """A Dense/Dropout MLP with Adam: the graph engine's kind."""
    model = keras.Sequential(
        [
            keras.Input((16,)),
            keras.layers.Dense(hp.Int("units", 8, 24, step=8), activation="relu"),  # type: ignore[attr-defined]
            keras.layers.Dropout(0.1),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Choice("lr", [0.01, 0.003])),  # type: ignore[attr-defined]
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def flat_signals() -> tuple[np.ndarray, np.ndarray]:
    x, y = signals()
    return x.reshape(len(x), -1), y


conv_task = hpo.Task(name="conv", data=signals, hypermodel=conv)
mlp_task = hpo.Task(name="mlp", data=flat_signals, hypermodel=mlp)


# Bad ones: each must end `hpo run` in one line, exit 2, before anything is written.
def _with(x: np.ndarray, y: np.ndarray) -> hpo.Task:
    return hpo.Task(name="bad", data=(x, y), hypermodel=conv)


_x, _y = signals()
not_a_task = 42
nan_features = _with(np.where(np.arange(_x.size).reshape(_x.shape) == 5, np.nan, _x), _y)
inf_labels = hpo.Task(name="bad", data=(_x, np.where(_y == 1, np.inf, _y)), hypermodel=conv)
lengths_differ = _with(_x, _y[:-3])
too_few_rows = _with(_x[:4], _y[:4])
labels_head_cannot_fit = _with(_x, _y * 5)  # labels 0..10, three outputs


def _raises(hp: object) -> keras.Model:
    raise ValueError("no such layer")


def _not_a_model(hp: object) -> object:
    return "a model"


def _not_compiled(hp: object) -> keras.Model:
    return keras.Sequential([keras.Input((16, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])


def _empty_space(hp: object) -> keras.Model:
    model = keras.Sequential([keras.Input((16, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


build_raises = hpo.Task(name="bad", data=signals, hypermodel=_raises)
build_returns_no_model = hpo.Task(name="bad", data=signals, hypermodel=_not_a_model)
build_returns_uncompiled = hpo.Task(name="bad", data=signals, hypermodel=_not_compiled)
empty_space = hpo.Task(name="bad", data=signals, hypermodel=_empty_space)


def loop(hp: object) -> keras.Model:
    """Layers declared in a loop over a searched count: later trials declare new ones."""
    layers = [keras.Input((16,))]
    for i in range(hp.Int("layers", 1, 3)):  # type: ignore[attr-defined]
        layers.append(keras.layers.Dense(hp.Int(f"units_{i}", 4, 16, step=4), "relu"))  # type: ignore[attr-defined]
    layers.append(keras.layers.Dense(3, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


loop_task = hpo.Task(name="loop", data=flat_signals, hypermodel=loop)


short_task = hpo.Task(name="short", data=flat_signals, hypermodel=mlp, epochs_scale=2 / 3)


class Tree(keras_tuner.HyperModel):
    """A small Conv1D space with a Boolean, a conditional Int and a Float on a log scale:
    a tree, not a product (for tables of a task's own space)."""

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        inputs = keras.Input((16, 1))
        h = keras.layers.Conv1D(hp.Choice("filters", [4, 8]), 3, activation="relu")(inputs)
        hp.Boolean("pool")
        with hp.conditional_scope("pool", [True]):
            size = hp.Int("pool_size", 2, 4)
        if size:
            h = keras.layers.MaxPooling1D(size, padding="same")(h)
        h = keras.layers.GlobalAveragePooling1D()(h)
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model


tree_task = hpo.Task(name="tree", data=signals, hypermodel=Tree())


class Fragile(Tree):
    """`Tree`, but a model pooled by 4 cannot be built: a table records a failed row."""

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        model = super().build(hp)
        if hp.get("pool") and hp.get("pool_size") == 4:
            raise ValueError("no pool of 4")
        return model


fragile_task = hpo.Task(name="fragile", data=signals, hypermodel=Fragile())
