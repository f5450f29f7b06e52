"""The seed report's MLP, built with Keras from a point of the space (`hpo.experiment.space`)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import keras
import keras_tuner as kt

from hpo.experiment.profiles import DEFAULT_TASK
from hpo.experiment.records import searched
from hpo.experiment.space import SPACE, declare
from hpo.experiment.tasks import Task, get_task


def build_model(hp: kt.HyperParameters, task: Task | str = DEFAULT_TASK) -> keras.Model:
    """The seed report's MLP: 1-3 Dense+Dropout layers, the task's head, Adam."""
    task = get_task(task) if isinstance(task, str) else task
    values = declare(hp)
    SPACE.validate(values)
    layers: list[keras.layers.Layer] = [keras.Input(shape=(task.n_features,))]
    for i in range(values["num_layers"]):
        layers.append(keras.layers.Dense(values[f"units_{i}"], activation=values["activation"]))
        layers.append(keras.layers.Dropout(values["dropout"]))
    layers.append(keras.layers.Dense(task.mlp_head.units, activation=task.mlp_head.activation))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=values["learning_rate"]),
        loss=task.mlp_head.loss,
        metrics=[] if task.regression else ["accuracy"],
    )
    return model


def model_builder(task: Task | str = DEFAULT_TASK) -> functools.partial[keras.Model]:
    """`build_model` for one task, in the one-argument form Keras Tuner calls."""
    return functools.partial(build_model, task=task)


def fixed_hyperparameters(values: Mapping[str, Any]) -> kt.HyperParameters:
    """HyperParameters holding exactly `values` (validated), e.g. to rebuild a best model."""
    SPACE.validate(values)
    hp = kt.HyperParameters()
    hp.values.update(searched(values))
    return hp
