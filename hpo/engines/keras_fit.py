"""How a trial's model is trained: the same epochs, batches and optimiser, less overhead.

On 364 training rows, Keras' `fit` spends most of its time on framework work,
not arithmetic. `QuickFit` is a Keras Tuner `HyperModel` (its documented hook
for customising `fit`) that keeps what is trained -- the model `build_model`
returns, its optimiser, batch size, epochs, a fresh shuffle every epoch, the
validation rows and the metrics the tuner reads -- and removes three costs
measured with cProfile:

- the optimiser's slots and the compiled metric's counters are created before
  `fit`: without a distribution strategy Keras defers both into the first
  traced step, and a step that creates variables is traced twice (about 1 s
  per model here; Adam starts from zeros and metrics are reset either way);
- one graph call per epoch (`steps_per_execution` = steps of an epoch) instead
  of one per batch, for trials of `ONE_CALL_MIN_EPOCHS` epochs or more: the
  looped graph costs about 0.5 s more to trace, which shorter trials never
  earn back;
- one input pipeline per trial, repeated, instead of a new tf.data iterator
  each epoch for training and again for validation (about 25 ms each here);
- validation as one forward pass over the 91 validation rows in eager mode,
  instead of tracing and running a separate test graph (about 1.5 s per model).

`val_loss` and `val_accuracy` are computed with Keras' own loss and metric
functions, so the oracle, checkpointing and history see the same names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import tensorflow as tf

from hpo.experiment.model import model_builder
from hpo.experiment.profiles import DEFAULT_TASK
from hpo.experiment.tasks import Head, Task, get_task

ONE_CALL_MIN_EPOCHS = 12  # break-even measured at 10-13 epochs here (2 cores, TF 2.21)


class ValidationMetrics(keras.callbacks.Callback):
    """Adds `val_loss` and `val_accuracy` to each epoch's logs, before other callbacks run.

    Computed with the task head's own Keras loss and metric functions, on the
    model's eager forward pass over the validation rows.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, head: Head) -> None:
        super().__init__()
        self.head = head
        self.x = np.asarray(x, dtype="float32")
        self.y = np.asarray(y, dtype="float32")
        if head.units == 1:  # binary or regression: one column, as the model outputs
            self.y = self.y.reshape(-1, 1)
        # The stateless functions (keras.metrics.get would give a stateful, accumulating
        # Metric object for "binary_accuracy").
        self.loss_fn = getattr(keras.losses, head.loss)
        self.metric_fn = None if head.metric is None else getattr(keras.metrics, head.metric)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.model.loss != self.head.loss:
            raise ValueError(
                f"QuickFit validates with the task's loss {self.head.loss!r}; the model's"
                f" loss is {self.model.loss!r}"
            )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None:
            return
        pred = self.model(self.x, training=False)
        logs["val_loss"] = float(keras.ops.mean(self.loss_fn(self.y, pred)))
        if self.metric_fn is not None:  # a regression head has no accuracy
            logs["val_accuracy"] = float(keras.ops.mean(self.metric_fn(self.y, pred)))


class FailOnNonFiniteLoss(keras.callbacks.Callback):
    """Fail the trial (Keras Tuner records it as FAILED, with this reason) when it diverges.

    At learning rate 0.1 a model can diverge; Keras would go on training NaN
    weights and Keras Tuner would score them like any other trial.
    """

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for name in ("loss", "val_loss"):
            value = (logs or {}).get(name)
            if value is not None and not math.isfinite(value):
                raise kt.errors.FailedTrialError(
                    f"{name} became {value} at epoch {epoch + 1}: the model diverged"
                )


def _build_state_eagerly(model: keras.Model, x: np.ndarray, y: np.ndarray) -> None:
    """Create the optimiser's and metrics' variables now, not inside the traced step."""
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    x0, y0 = np.asarray(x[:1], dtype="float32"), np.asarray(y[:1], dtype="float32")
    model.compute_metrics(x0, y0, model(x0, training=False), sample_weight=None)
    model.reset_metrics()


class TaskHyperModel(kt.HyperModel):
    """A task's model-building function as a Keras Tuner HyperModel; engines subclass `fit`.

    `trained_by` says which engine trained the last model fitted ("graph" or "keras"),
    and `refusal` why the graph engine did not, if it did not.
    """

    def __init__(
        self,
        build: Callable[[kt.HyperParameters], keras.Model] | None = None,
        task: Task | str = DEFAULT_TASK,
    ) -> None:
        super().__init__()
        self.task = get_task(task) if isinstance(task, str) else task
        self._build = build if build is not None else task_builder(self.task)
        self.trained_by: str | None = None
        self.refusal: str | None = None

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return self._build(hp)


def task_builder(task: Task) -> Callable[[kt.HyperParameters], keras.Model]:
    """The function building a task's model from `hp`: its hypermodel's, or hpo's MLP."""
    if task.hypermodel is None:
        return model_builder(task)
    if isinstance(task.hypermodel, kt.HyperModel):
        return task.hypermodel.build
    build: Callable[[kt.HyperParameters], keras.Model] = task.hypermodel
    return build


class QuickFit(TaskHyperModel):
    """`build` as given; `fit` trains the same batches and epochs with less overhead.

    A task of the user's own (its hypermodel, any metrics) is trained by Keras' `fit`
    as Keras Tuner would, or by its HyperModel's own `fit` when it has one.
    """

    def fit(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        x: np.ndarray,
        y: np.ndarray,
        *,
        validation_data: tuple[np.ndarray, np.ndarray],
        batch_size: int,
        epochs: int,
        callbacks: list[keras.callbacks.Callback] | None = None,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        self.trained_by = "keras"
        if not self.task.searches_mlp:
            return self._fit_as_keras_tuner(
                hp, model, x, y, validation_data, batch_size, epochs, callbacks, **kwargs
            )
        assert self.task.head is not None  # a built-in task has one
        steps = math.ceil(len(x) / batch_size)
        if epochs - kwargs.get("initial_epoch", 0) >= ONE_CALL_MIN_EPOCHS:
            model.steps_per_execution = steps
        _build_state_eagerly(model, x, y)
        # Drawn from NumPy's global generator, which hpo.tuners seeds for each trial:
        # a trial shuffles the same way whenever, and in whichever process, it runs.
        shuffle_seed = int(np.random.randint(2**31 - 1))
        batches = (
            tf.data.Dataset.from_tensor_slices((np.asarray(x), np.asarray(y)))
            .shuffle(len(x), seed=shuffle_seed)
            .batch(batch_size)
            .repeat()
        )
        kwargs.pop("shuffle", None)  # the pipeline reshuffles every epoch itself
        return model.fit(
            batches,
            shuffle=False,
            steps_per_epoch=steps,
            epochs=epochs,
            # Validation first (the others read its logs); the divergence check last, so
            # the tuner has counted the epoch in which the trial failed.
            callbacks=[
                ValidationMetrics(*validation_data, head=self.task.mlp_head),
                *(callbacks or []),
                FailOnNonFiniteLoss(),
            ],
            **{"verbose": 0, **kwargs},
        )

    def _fit_as_keras_tuner(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        x: np.ndarray,
        y: np.ndarray,
        validation_data: tuple[np.ndarray, np.ndarray],
        batch_size: int,
        epochs: int,
        callbacks: list[keras.callbacks.Callback] | None,
        **kwargs: Any,
    ) -> Any:
        """Keras Tuner's own way: the HyperModel's `fit`, or `model.fit`, divergence checked."""
        callbacks = [*(callbacks or []), FailOnNonFiniteLoss()]
        hypermodel = self.task.hypermodel
        kwargs = {"verbose": 0, **kwargs}
        if isinstance(hypermodel, kt.HyperModel):
            return hypermodel.fit(
                hp,
                model,
                x,
                y,
                validation_data=validation_data,
                batch_size=batch_size,
                epochs=epochs,
                callbacks=callbacks,
                **kwargs,
            )
        return model.fit(
            x,
            y,
            validation_data=validation_data,
            batch_size=batch_size,
            epochs=epochs,
            callbacks=callbacks,
            **kwargs,
        )
