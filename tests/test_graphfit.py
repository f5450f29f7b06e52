"""The graph engine trains what Keras' fit trains.

Exact where randomness allows: without dropout, from the same initial weights
and batch order, every epoch's loss, val_loss and val_accuracy, and the final
weights, match `model.fit` to 1e-4 over 50 epochs (they are in fact bitwise
equal for the weights: the graph uses Keras' own ops in Keras' order).
With dropout the masks differ by construction; benchmarks/test_engines.py
compares the engines' test accuracies over seeds.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hpo.engines.graph import GraphFit, describe_model, train
from hpo.engines.keras_fit import ValidationMetrics
from hpo.errors import HpoError
from hpo.experiment.data import load_splits
from hpo.experiment.model import build_model, fixed_hyperparameters
from hpo.experiment.tasks import get_task

TASK = get_task("breast_cancer")
EPOCHS = 50
TOLERANCE = 1e-4

# 1-3 layers, every activation, widths from 32 to 512, every learning rate, no dropout.
SETTINGS = [
    {"num_layers": 1, "units_0": 32, "activation": "relu", "learning_rate": 0.001},
    {"num_layers": 2, "units_0": 512, "units_1": 64, "activation": "tanh", "learning_rate": 0.01},
    {
        "num_layers": 3,
        "units_0": 64,
        "units_1": 480,
        "units_2": 32,
        "activation": "sigmoid",
        "learning_rate": 0.1,
    },
    {"num_layers": 1, "units_0": 512, "activation": "sigmoid", "learning_rate": 0.01},
    {
        "num_layers": 3,
        "units_0": 256,
        "units_1": 128,
        "units_2": 512,
        "activation": "relu",
        "learning_rate": 0.1,
    },
    {"num_layers": 2, "units_0": 96, "units_1": 352, "activation": "tanh", "learning_rate": 0.001},
]


# Every other task's head, on two of the settings above (the hidden layers are shared). On
# the 1,280 noisy synthetic rows, 512 tanh units at rate 0.01 overfit chaotically: a
# last-bit difference in one validation sum at epoch 3 grows to 1e-3 by epoch 6, so that
# binary task (breast_cancer's head) is checked on its two relu settings.
OTHER_HEADS = [
    *((task, values) for task in ("wine", "digits", "diabetes") for values in SETTINGS[1::3]),
    *(("synthetic", values) for values in (SETTINGS[0], SETTINGS[4])),
]


@pytest.fixture(scope="module")
def splits():
    return load_splits(0, TASK.name)


def _relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


@pytest.mark.parametrize("values", SETTINGS, ids=lambda v: f"{v['num_layers']}x{v['activation']}")
def test_graph_epochs_equal_keras_fit(values, splits):
    _check_equal_to_keras_fit(TASK, values, splits, EPOCHS)


@pytest.mark.parametrize(
    ("task", "values"), OTHER_HEADS, ids=lambda v: v if isinstance(v, str) else v["activation"]
)
def test_graph_epochs_equal_keras_fit_for_every_head(task, values):
    """Softmax (3 and 10 classes), linear regression and the synthetic binary task."""
    _check_equal_to_keras_fit(get_task(task), values, load_splits(0, task), epochs=10)


def _check_equal_to_keras_fit(task, values, splits, epochs):
    keras.utils.set_random_seed(7)
    hp = fixed_hyperparameters({**values, "dropout": 0.0})
    reference, ours = build_model(hp, task), build_model(hp, task)
    ours.set_weights(reference.get_weights())
    rng = np.random.default_rng(11)
    orders = [rng.permutation(len(splits.y_train)) for _ in range(epochs)]

    history = train(
        ours,
        describe_model(ours, task),
        (splits.x_train, splits.y_train),
        (splits.x_val, splits.y_val),
        batch_size=32,
        epochs=range(epochs),
        callbacks=[],
        orders=lambda epoch: orders[epoch],
    ).history
    for epoch, order in enumerate(orders):  # Keras' fit, one epoch at a time in the same order
        fit = reference.fit(
            splits.x_train[order],
            splits.y_train[order],
            batch_size=32,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[ValidationMetrics(splits.x_val, splits.y_val, task.head)],
        ).history
        names = ("loss", "val_loss") if task.regression else ("loss", "val_loss", "val_accuracy")
        assert set(names) <= history.keys()
        for name in names:
            assert _relative(history[name][epoch], fit[name][0]) <= TOLERANCE, (name, epoch)
    for got, want in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=TOLERANCE, atol=1e-6)


def test_dense_layers_without_dropout_train_as_rate_zero():
    model = keras.Sequential(
        [keras.Input((30,)), keras.layers.Dense(8, "tanh"), keras.layers.Dense(1, "sigmoid")]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    mlp = describe_model(model, TASK)
    assert (mlp.layers, mlp.activation, mlp.dropout) == (1, "tanh", 0.0)


def test_other_models_are_refused_with_the_reason():
    model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(8), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    with pytest.raises(HpoError, match="cannot train this model: hidden activations"):
        describe_model(model, TASK)


def test_a_refused_model_is_trained_by_keras_fit_instead(splits):
    def build(hp):
        model = keras.Sequential(
            [
                keras.Input((30,)),
                keras.layers.Dense(4, activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
        return model

    fit = GraphFit(build, TASK)
    history = fit.fit(
        None,
        fit.build(None),
        splits.x_train,
        splits.y_train,
        validation_data=(splits.x_val, splits.y_val),
        batch_size=32,
        epochs=2,
    ).history
    assert fit.trained_by == "keras" and "not Adam" in fit.refusal
    assert len(history["val_loss"]) == 2
