"""A user's task checked before its search starts: one line naming the first problem.

A search that fails on its first trial has already written a project folder and
spent TensorFlow's start-up; these checks build the task's default model once,
on the cell's own split, and say what is wrong in terms of the user's task.
`hpo.testing.check_task` adds one epoch of training to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from hpo.errors import HpoError
from hpo.experiment.data import Splits
from hpo.experiment.tasks import Task, get_task

PROBE_ROWS = 8  # rows the model predicts on to check that its output fits the labels

# Losses of a regression model: its integer targets are not class labels.
REGRESSION_LOSSES = frozenset(
    {
        "mse",
        "mae",
        "mape",
        "msle",
        "mean_squared_error",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "mean_squared_logarithmic_error",
        "huber",
        "huber_loss",
        "log_cosh",
        "logcosh",
        "poisson",
        "cosine_similarity",
    }
)


def preflight(task: Task, splits: Splits) -> None:
    """Check a user's task on one split: a non-empty space, a compiled model, labels it fits."""
    import keras_tuner as kt

    from hpo.engines.keras_fit import task_builder

    hp = kt.HyperParameters()
    who = f"task {task.name!r}"
    model = build_checked(task_builder(task), hp, who)
    check_model(task, model, splits=splits)
    if not hp.space:
        raise HpoError(f"{who}: its model declares no hyperparameters to search")


def build_checked(build: Callable[[Any], Any], hp: Any, who: str) -> Any:
    """`build(hp)`, its exception as one HpoError line."""
    try:
        return build(hp)
    except Exception as e:
        raise HpoError(f"{who}: building the model failed: {one_line(e)}") from None


def one_line(e: Exception) -> str:
    """The exception's type and first line (past Keras' "Exception encountered when calling")."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e))  # Keras' bold
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Exception encountered when calling"):
        lines = lines[1:]
    return f"{type(e).__name__}: {lines[0]}" if lines else type(e).__name__


def check_model(task: Task | str, model: Any, *, splits: Splits | None = None) -> None:
    """HpoError (one line) unless `model` is a compiled Keras model whose output fits the
    task's labels: a row of output per input row; integer class labels within the head's
    columns (0..k-1 for k columns, 0 or 1 for one). Trains nothing.

    `splits`: the task's rows (default: `load_splits(0, task)`).
    """
    import keras

    from hpo.experiment.data import load_splits

    task = get_task(task) if isinstance(task, str) else task
    who = f"task {task.name!r}"
    if not isinstance(model, keras.Model):
        kind = "None" if model is None else type(model).__name__
        raise HpoError(f"{who}: build_model returned {kind}, not a compiled Keras model")
    if not getattr(model, "compiled", False):
        raise HpoError(
            f"{who}: the model build_model returned is not compiled; call model.compile(...)"
        )
    splits = load_splits(0, task) if splits is None else splits
    x = splits.x_train[:PROBE_ROWS]
    try:
        out = model(x, training=False)
    except Exception as e:
        raise HpoError(
            f"{who}: the model cannot take the task's features (rows of shape"
            f" {x.shape[1:]}): {one_line(e)}"
        ) from None
    if isinstance(out, (dict, list, tuple)):
        return  # several outputs: Keras' fit matches them to the labels
    pred = np.asarray(keras.ops.convert_to_numpy(out))
    if pred.ndim == 0 or pred.shape[0] != len(x):
        raise HpoError(
            f"{who}: the model outputs shape {pred.shape} for {len(x)} rows; expected a row"
            " of output per row"
        )
    labels = np.concatenate([splits.y_train, splits.y_val, splits.y_test])
    _check_labels(who, task, model, pred, labels)


def _check_labels(who: str, task: Task, model: Any, pred: np.ndarray, labels: np.ndarray) -> None:
    """HpoError unless the model's output columns can fit `labels`."""
    columns = 1 if pred.ndim == 1 else int(pred.shape[-1])
    if labels.ndim == 2 and labels.shape[1] > 1 and pred.ndim == 2 and labels.shape[1] != columns:
        raise HpoError(
            f"{who}: labels have {labels.shape[1]} columns but the model outputs {columns}"
        )
    classes = labels.ndim == 1 or (labels.ndim == 2 and labels.shape[1] == 1)
    if not (classes and pred.ndim <= 2 and np.issubdtype(labels.dtype, np.integer)):
        return
    if task.regression or _loss_name(model) in REGRESSION_LOSSES:
        return  # integer targets of a regression, not classes
    lo, hi = int(labels.min()), int(labels.max())
    if columns == 1 and (lo < 0 or hi > 1):
        raise HpoError(
            f"{who}: labels {lo}..{hi} but the model outputs 1 column, which fits labels 0 and"
            " 1 only; give it one column per class (softmax)"
        )
    if columns > 1 and (lo < 0 or hi >= columns):
        raise HpoError(
            f"{who}: labels {lo}..{hi} but the model outputs {columns} columns, one per class"
            f" 0..{columns - 1}"
        )


def _loss_name(model: Any) -> str:
    loss = model.loss
    name = loss if isinstance(loss, str) else getattr(loss, "name", None)
    name = name or getattr(loss, "__name__", "")
    return str(name).lower()
