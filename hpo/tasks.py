"""Tasks: the data a search runs on, the model's head, and the objective.

A task is one value: where its rows come from, whether the test hold-out is
stratified, the output layer and loss the searched hidden layers feed, and the
validation metric the tuners optimise. Breast Cancer is the first and the
default; nothing else in hpo names its data, its 30 features or its loss.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hpo.errors import HpoError
from hpo.profiles import DEFAULT_TASK


@dataclass(frozen=True)
class Head:
    """The model's output layer, loss, and the metric reported as `accuracy`."""

    units: int
    activation: str
    loss: str
    metric: str  # a keras.metrics function name, e.g. "binary_accuracy"


@dataclass(frozen=True)
class Task:
    name: str
    load: Callable[[], tuple[np.ndarray, np.ndarray]]  # all rows: features, labels
    head: Head
    objective: str = "val_accuracy"
    stratify: bool = True  # stratify the hold-outs by label (classification)

    @property
    def n_features(self) -> int:
        return _n_features(self.name)


@functools.cache
def _n_features(name: str) -> int:
    x, _ = get_task(name).load()
    return int(x.shape[1])


def _breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """The 569 x 30 Breast Cancer features and 0/1 labels shipped with scikit-learn."""
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    return x, y


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task(
            name=DEFAULT_TASK,
            load=_breast_cancer,
            head=Head(
                units=1, activation="sigmoid", loss="binary_crossentropy", metric="binary_accuracy"
            ),  # fmt: skip
        ),
    )
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise HpoError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}") from None
