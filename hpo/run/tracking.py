"""Cell records into the tools users already have: TensorBoard's HParams dashboard, MLflow.

Both write from a finished record (`CellResult`), so what they show is what
the record holds, a resumed cell is logged once, and no tracking call runs
inside a search. TensorBoard gets one run per trial, grouped by cell, with the
trial's hyperparameters and its per-epoch curve; MLflow gets one run per cell
(parameters, scores, the record as an artifact) with one nested run per trial.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from hpo.errors import HpoError
from hpo.experiment.records import CURVE
from hpo.experiment.results import CellResult, write_json

CELL_METRICS = (
    "test_accuracy", "test_r2", "test_value", "test_loss", "best_val_accuracy", "best_val_loss",
    "wall_time_s", "epochs_trained", "trials_completed", "trials_failed",
)  # fmt: skip


def _hparam_value(value: Any) -> Any:
    """TensorBoard's HParams take bool, int, float or str."""
    return value if isinstance(value, (bool, int, float, str)) else str(value)


def track(
    record: CellResult, tensorboard: str | os.PathLike[str] | None, mlflow: str | None
) -> list[str]:
    """Log `record` where the options ask (`--tensorboard DIR`, `--mlflow URI`); one line
    per place, saying where it went."""
    said = []
    if tensorboard:
        said.append(f"TensorBoard: {log_tensorboard(record, tensorboard)}")
    if mlflow:
        said.append(f"MLflow: run {log_mlflow(record, mlflow)} in {mlflow}")
    return said


def log_tensorboard(record: CellResult, logdir: str | os.PathLike[str]) -> Path:
    """Write each trial of `record` as a TensorBoard run under LOGDIR/CELL/trial_ID."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hparams_api

    root = Path(logdir) / record.id.name
    for trial in record.history:
        run_dir = root / f"trial_{trial.trial_id}"
        writer = tf.summary.create_file_writer(str(run_dir))
        with writer.as_default():
            values = {k: _hparam_value(v) for k, v in trial.hyperparameters.items()}
            hparams_api.hparams(
                {**values, "tuner": record.tuner, "seed": record.seed, "task": record.task},
                trial_id=f"{record.id.name}/{trial.trial_id}",
            )
            for name in CURVE:
                for step, value in enumerate(getattr(trial.curve, name, ())):
                    if value is not None:
                        tf.summary.scalar(name, value, step=step + 1)
            if trial.score is not None:  # the trial's score, as its oracle saw it
                tf.summary.scalar("score", trial.score, step=trial.epochs)
            if trial.params:  # the model's size: score against params is the front
                tf.summary.scalar("params", trial.params, step=trial.epochs)
        writer.close()
    return root


MLFLOW_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks")


def check_mlflow_uri(uri: str) -> str:
    """`uri` if MLflow can keep runs there; one-line HpoError before any search otherwise.

    MLflow 3 refuses a plain folder (its file store is in maintenance mode), so a path
    is refused here, with the database URI that would work, rather than after a search.
    """
    scheme = uri.split("://", 1)[0].split("+", 1)[0] if "://" in uri else ""
    if scheme not in MLFLOW_SCHEMES:
        raise HpoError(
            f"--mlflow {uri!r}: MLflow keeps runs in a database or on a server, not a folder;"
            f" give e.g. sqlite:///{Path(uri).name or 'mlflow'}.db or http://HOST:PORT"
        )
    return uri


def log_mlflow(record: CellResult, tracking_uri: str, experiment: str = "hpo") -> str:
    """Log `record` to MLflow: a run for the cell, a nested run per trial. Returns the run id."""
    check_mlflow_uri(tracking_uri)
    try:
        import mlflow
    except ImportError:
        raise HpoError("--mlflow needs MLflow: pip install 'keras-hpo-bench[mlflow]'") from None
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    cell = record.id
    with mlflow.start_run(run_name=cell.name) as run:
        mlflow.log_params(
            {"tuner": cell.tuner, "seed": cell.seed, "profile": cell.profile, "task": cell.task}
        )
        mlflow.log_metrics(
            {name: float(getattr(record, name)) for name in CELL_METRICS if getattr(record, name)
             is not None}
        )  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            path = write_json(Path(tmp) / f"{cell.name}.json", record.to_dict())
            mlflow.log_artifact(str(path))
        for trial in record.history:
            with mlflow.start_run(run_name=f"trial {trial.trial_id}", nested=True):
                mlflow.log_params(
                    {**trial.hyperparameters, "trial_id": trial.trial_id,
                     "status": str(trial.status)}
                )  # fmt: skip
                for name in CURVE:
                    for step, value in enumerate(getattr(trial.curve, name, ())):
                        if value is not None:
                            mlflow.log_metric(name, value, step=step + 1)
                if trial.score is not None:
                    mlflow.log_metric("score", trial.score)
                if trial.params:
                    mlflow.log_metric("params", trial.params)
        return str(run.info.run_id)
