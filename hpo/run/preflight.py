"""A user's task checked before its search starts: one line naming the first problem.

A search that fails on its first trial has already written a project folder and
spent TensorFlow's start-up; these checks build the task's default model once,
on the cell's own split, and say what is wrong in terms of the user's task.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hpo.errors import HpoError
from hpo.experiment.data import Splits
from hpo.experiment.tasks import Task


def build_checked(task: Task, hp: Any) -> Any:
    """The task's model for `hp`, or HpoError when building fails or gives no compiled model."""
    import keras

    from hpo.engines.keras_fit import task_builder

    try:
        model = task_builder(task)(hp)
    except HpoError:
        raise
    except Exception as e:  # the user's build_model: say whose error, in one line
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise HpoError(
            f"task {task.name!r}: building the model failed: {type(e).__name__}: {first}"
        ) from None
    if not isinstance(model, keras.Model):
        raise HpoError(
            f"task {task.name!r}: the model builder returned {type(model).__name__},"
            " not a compiled Keras model"
        )
    if not getattr(model, "compiled", False) or model.optimizer is None:
        raise HpoError(f"task {task.name!r}: the model is not compiled (call model.compile)")
    return model


def check_labels(task: Task, model: Any, x: np.ndarray, y: np.ndarray) -> None:
    """HpoError unless the model's output can be scored against labels `y`."""
    try:
        out = np.asarray(model(x[: min(len(x), 8)], training=False))
    except Exception as e:
        raise HpoError(
            f"task {task.name!r}: the model cannot read the features of shape"
            f" {tuple(x.shape[1:])}: {type(e).__name__}: {str(e).strip().splitlines()[0]}"
        ) from None
    columns = int(np.prod(out.shape[1:])) if out.ndim > 1 else 1
    if np.issubdtype(y.dtype, np.integer) and y.ndim == 1 and task.score_kind == "accuracy":
        low, high = int(y.min()), int(y.max())
        classes = 2 if columns == 1 else columns
        if low < 0 or high >= classes:
            raise HpoError(
                f"task {task.name!r}: labels {low}..{high} but the model outputs"
                f" {columns} column(s), which fit labels 0..{classes - 1}"
            )


def preflight(task: Task, splits: Splits) -> None:
    """Check a user's task on one split: a non-empty space, a compiled model, labels it fits."""
    import keras_tuner as kt

    hp = kt.HyperParameters()
    model = build_checked(task, hp)
    if not hp.space:
        raise HpoError(f"task {task.name!r}: its model declares no hyperparameters to search")
    check_labels(task, model, splits.x_train, splits.y_train)
