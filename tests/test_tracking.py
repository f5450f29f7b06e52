"""A real smoke cell logged to TensorBoard and MLflow, read back with their own libraries."""

from __future__ import annotations

import pytest

from hpo.run.cell import Cell, run_cell
from hpo.run.tracking import log_mlflow, log_tensorboard

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    return run_cell(Cell.of("hyperband", 0, "smoke"), tmp_path_factory.mktemp("cell"))


def test_each_trial_records_its_per_epoch_curve(record):
    for trial in record.history:
        assert len(trial.curve.val_accuracy) == trial.epochs
        assert trial.curve.val_accuracy[-1] == pytest.approx(trial.val_accuracy)


def test_tensorboard_event_files_hold_hparams_and_curves(record, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    root = log_tensorboard(record, tmp_path)
    runs = sorted(p for p in root.iterdir() if p.is_dir())
    assert len(runs) == len(record.history)
    trial = record.history[-1]
    events = EventAccumulator(str(root / f"trial_{trial.trial_id}"))
    events.Reload()
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    info = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    assert info.hparams["learning_rate"].number_value == trial.hyperparameters["learning_rate"]
    assert info.hparams["tuner"].string_value == "hyperband"
    assert info.hparams["task"].string_value == "breast_cancer"
    val = [e.tensor_proto.float_val[0] if e.tensor_proto.float_val else None
           for e in events.Tensors("val_accuracy")]  # fmt: skip
    if not any(v is not None for v in val):  # scalars stored as tensors with a scalar shape
        import tensorflow as tf

        val = [float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors("val_accuracy")]
    assert val == pytest.approx(list(trial.curve.val_accuracy))


def test_mlflow_holds_the_cell_and_its_trials(record, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)  # a SQLite store keeps artifacts in ./mlruns
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_id = log_mlflow(record, uri, experiment="test")
    client = MlflowClient(uri)
    cell = client.get_run(run_id)
    assert cell.data.params["tuner"] == "hyperband" and cell.data.params["seed"] == "0"
    assert cell.data.metrics["test_accuracy"] == pytest.approx(record.test_accuracy)
    assert [a.path for a in client.list_artifacts(run_id)] == [f"{record.id.name}.json"]
    experiment = client.get_experiment_by_name("test").experiment_id
    children = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{run_id}'")
    assert len(children) == len(record.history)
    child = next(c for c in children if c.data.params["trial_id"] == record.history[0].trial_id)
    history = client.get_metric_history(child.info.run_id, "val_accuracy")
    assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(
        list(record.history[0].curve.val_accuracy)
    )
    assert child.data.metrics["params"] == record.history[0].params  # the size of its model
