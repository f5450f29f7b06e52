"""Training a table's rows: each one exactly what a live trial with its seed trains.

A live trial on the graph engine (`hpo.run.search.TrialRecorder`) seeds
Python, NumPy and TensorFlow with its trial seed (`keras.utils.set_random_seed`,
TensorFlow's kernel cache kept), lets Keras Tuner clear the Keras session
before the build (again keeping the kernel cache: `TrialRecorder._try_build`),
builds `build_model(hp, task)` and calls `GraphFit.fit` with the training rows,
the validation rows, the task's batch size and the epochs. `train_row` does
those steps with the same functions in the same order, so the model's initial
weights, every epoch's shuffle and dropout masks, and so every logged number
are the live trial's, bit for bit (tests/test_tables.py checks this against a
real Keras Tuner search). The only addition is a callback that, after each
epoch, reads the epoch's logs and judges that epoch's weights on the test rows.

The test pass is one eager forward pass over the test rows: the score as
`hpo.run.cell.test_score_eagerly` computes it (the head's Keras metric, or R²),
the loss with the head's Keras loss function as `ValidationMetrics` computes
val_loss. A live run judges its best model with `model.evaluate` in batches of
32, whose loss is summed in another order: it may differ from `test_loss` here
in the last bits; accuracies count the same rows right and are equal.
"""

from __future__ import annotations

import functools
import gc
import math
import os
import time
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

from hpo.engines.graph import GraphFit
from hpo.errors import HpoError
from hpo.experiment.data import Splits, load_splits
from hpo.experiment.model import build_model, fixed_hyperparameters
from hpo.experiment.tasks import Task, get_task
from hpo.run.search import _kernel_cache_kept
from hpo.tables.plan import FAILED_TO_TRAIN, ChunkDone, ChunkJob, RowResult, empty_curve
from hpo.tables.table import CURVES

_LOGGED = ("loss", "accuracy", "val_loss", "val_accuracy")  # read from the epoch's logs


class EpochRecorder(keras.callbacks.Callback):
    """Keeps each epoch's logs, its wall time, and its weights' test loss and score."""

    def __init__(self, splits: Splits, task: Task, epochs: int) -> None:
        super().__init__()
        self.task = task
        self.x_test = np.asarray(splits.x_test, dtype="float32")
        self.y_test = np.asarray(splits.y_test)
        self.y_loss = self.y_test.astype("float32")
        self.loss_fn: Any = None
        self.metric_fn: Any = None
        if task.searches_mlp:
            head = task.mlp_head
            if head.units == 1:  # one output column: labels as one column too
                self.y_loss = self.y_loss.reshape(-1, 1)
            self.loss_fn = getattr(keras.losses, head.loss)
            self.metric_fn = None if head.metric is None else getattr(keras.metrics, head.metric)
        self.curves = {name: empty_curve(epochs) for name in CURVES}
        self.last_epoch = -1
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        elapsed = time.perf_counter() - self._started
        logs = logs or {}
        for name in _LOGGED:
            if name in logs:
                self.curves[name][epoch] = logs[name]
        self.curves["test_loss"][epoch], self.curves["test_score"][epoch] = self.test(self.model)
        self.curves["epoch_time_s"][epoch] = elapsed
        self.last_epoch = epoch

    def test(self, model: keras.Model) -> tuple[float, float]:
        """Loss and score of the model's weights now on the test rows (one eager pass): on
        hpo's MLP the head's loss and metric; a task's own model, its compiled loss (with
        any regularisation, as `evaluate` adds it) and the task's scorer."""
        predicted = model(self.x_test, training=False)
        if not self.task.searches_mlp:
            loss = float(model.compute_loss(x=self.x_test, y=self.y_test, y_pred=predicted))
            p = np.asarray(predicted)
            if not np.isfinite(p).all():
                return loss, math.nan
            return loss, self.task.scorer(self.y_test, p)
        loss = float(keras.ops.mean(self.loss_fn(self.y_loss, predicted)))
        p = np.asarray(predicted)
        if self.metric_fn is None:  # regression: R², as test_score_eagerly
            if not np.isfinite(p).all():
                return loss, math.nan
            from sklearn.metrics import r2_score

            return loss, float(r2_score(self.y_test, p.reshape(-1)))
        return loss, float(np.mean(self.metric_fn(self.y_loss, p)))


def seed_and_build(config: dict[str, Any], seed: int, task: Task) -> tuple[Any, keras.Model]:
    """Seed and build as a live trial does: hpo's per-trial seeding, then Keras Tuner's build
    (hpo's MLP, or the task's own build given the configuration's values)."""
    with _kernel_cache_kept():  # TrialRecorder.run_trial
        keras.utils.set_random_seed(seed)
    with _kernel_cache_kept():  # TrialRecorder._try_build
        keras.backend.clear_session(free_memory=False)
    if task.searches_mlp:
        hp = fixed_hyperparameters(config)
        return hp, build_model(hp, task)
    from hpo.engines.keras_fit import task_builder
    from hpo.run.search import defaults_for_missing_values

    hp = kt.HyperParameters()
    hp.values = dict(config)
    with defaults_for_missing_values():
        return hp, task_builder(task)(hp)


def train_row(
    row: int, config: dict[str, Any], seed: int, task: Task, splits: Splits, epochs: int
) -> RowResult:
    """Train one row and return its curves; a divergence ends it (NaN after that epoch).

    A task's own model that cannot be built or trained (its build or fit raises) is a
    failed row (`FAILED_TO_TRAIN`, with the error's last line), as Keras Tuner fails
    such a trial; hpo's own MLP always builds, so there it is a bug and raises.
    """
    started = time.perf_counter()
    recorder = EpochRecorder(splits, task, epochs)
    trainer = GraphFit(task=task)
    failed_at = -1
    try:
        hp, model = seed_and_build(config, seed, task)
        build_time_s = time.perf_counter() - started
        trainer.fit(
            hp,
            model,
            splits.x_train,
            splits.y_train,
            validation_data=(splits.x_val, splits.y_val),
            batch_size=task.batch_size,
            epochs=epochs,
            callbacks=[recorder],
        )
    except kt.errors.FailedTrialError:  # FailOnNonFiniteLoss, after our callback saw the epoch
        failed_at = recorder.last_epoch
    except Exception as e:
        if task.searches_mlp:
            raise
        return RowResult(
            row=row,
            params=0,
            failed_at_epoch=FAILED_TO_TRAIN,
            build_time_s=time.perf_counter() - started,
            curves={name: empty_curve(epochs) for name in CURVES},
            error=_one_line(e),
        )
    if task.searches_mlp and trainer.trained_by != "graph":
        raise HpoError(
            f"configuration {config} was not trained by the graph engine ({trainer.refusal})"
        )
    for curve in recorder.curves.values():
        curve[np.isnan(curve)] = np.nan  # one NaN bit pattern: the table's hash is stable
    return RowResult(
        row=row,
        params=sum(int(np.prod(w.shape)) for w in model.trainable_weights),
        failed_at_epoch=failed_at,
        build_time_s=build_time_s,
        curves=recorder.curves,
    )


def _one_line(error: BaseException) -> str:
    """An error as a failed trial's record says it: its type and its message's last line."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[-1]}" if text else type(error).__name__


@functools.cache
def splits_of(task: str, split_seed: int) -> Splits:
    return load_splits(split_seed, task)


def train_chunk(job: ChunkJob) -> ChunkDone:
    """Train a chunk's rows, in this process, one after another."""
    task = get_task(job.task)
    splits = splits_of(job.task, job.split_seed)
    rows = [train_row(r, config, seed, task, splits, job.epochs) for r, config, seed in job.rows]
    gc.collect()  # the chunk's models, now; the process trains many chunks
    return ChunkDone(rows=rows, facts=process_facts())


def process_facts() -> dict[str, Any]:
    """What this process runs (the builder refuses rows from other code) and its state."""
    import tensorflow as tf

    from hpo.run.memory import rss_mb

    return {
        "versions": _versions(),
        "tf_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "pid": os.getpid(),
        "rss_mb": rss_mb(),
    }


@functools.cache
def _versions() -> dict[str, str]:
    from hpo.run.provenance import versions

    return versions()
