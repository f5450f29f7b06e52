"""hpo's quicker path trains what a plain Keras Tuner run trains.

Same model, batches, epochs and budgets; the validation metrics it logs are
the ones Keras' own evaluate() gives; test accuracies over several seeds do not
differ significantly from the plain path's. (Bit-identical weights are not
promised: the input pipeline draws its own shuffles.)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import keras
import numpy as np
import pytest

from hpo.analysis.stats import wilcoxon_p
from hpo.engines.keras_fit import ONE_CALL_MIN_EPOCHS, QuickFit
from hpo.experiment.data import load_splits
from hpo.experiment.model import build_model, fixed_hyperparameters
from hpo.run.cell import Cell, run_cell, seed_everything

pytestmark = pytest.mark.slow

HP = {
    "num_layers": 2,
    "units_0": 64,
    "units_1": 64,
    "activation": "relu",
    "dropout": 0.2,
    "learning_rate": 0.01,
}
SEEDS = range(6)


def _plain_script():
    path = Path(__file__).parents[1] / "benchmarks" / "plain_keras_tuner.py"
    spec = importlib.util.spec_from_file_location("plain_keras_tuner", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fit(seed: int, quick: bool, epochs: int):
    splits = load_splits(seed)
    seed_everything(seed)
    keras.backend.clear_session()
    hp = fixed_hyperparameters(HP)
    model = build_model(hp)
    kwargs = dict(
        validation_data=(splits.x_val, splits.y_val), batch_size=32, epochs=epochs, verbose=0
    )
    if quick:
        history = QuickFit().fit(hp, model, splits.x_train, splits.y_train, **kwargs)
    else:
        history = model.fit(splits.x_train, splits.y_train, **kwargs)
    return model, history.history, splits


@pytest.mark.parametrize("epochs", [3, ONE_CALL_MIN_EPOCHS + 3])
def test_logged_validation_metrics_are_keras_own(epochs):
    model, logs, splits = _fit(0, quick=True, epochs=epochs)
    assert len(logs["loss"]) == epochs
    loss, accuracy = model.evaluate(splits.x_val, splits.y_val, batch_size=32, verbose=0)
    assert logs["val_accuracy"][-1] == pytest.approx(accuracy, abs=1e-6)
    assert logs["val_loss"][-1] == pytest.approx(loss, rel=1e-4)


def test_quickfit_and_fit_reach_the_same_accuracy_over_seeds():
    epochs = ONE_CALL_MIN_EPOCHS + 3
    plain, quick = [], []
    for seed in SEEDS:
        for sink, is_quick in ((plain, False), (quick, True)):
            model, logs, splits = _fit(seed, is_quick, epochs)
            assert len(logs["loss"]) == epochs
            sink.append(model.evaluate(splits.x_test, splits.y_test, verbose=0)[1])
    assert wilcoxon_p(quick, plain) > 0.05
    assert abs(np.mean(quick) - np.mean(plain)) < 2 / 114  # two test rows


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """hpo cells and plain-script cells, smoke profile, same seeds."""
    plain = _plain_script()
    out = {}
    for tuner in ("hyperband", "random"):
        for seed in SEEDS:
            ours = run_cell(Cell.of(tuner, seed, "smoke"), workdir=tmp_path_factory.mktemp("hpo"))
            theirs = plain.run(tuner, seed, "smoke", str(tmp_path_factory.mktemp("plain")))
            out[tuner, seed] = (ours, theirs)
    return out


def test_same_trials_and_epochs_as_the_plain_script(pairs):
    for (tuner, seed), (ours, theirs) in pairs.items():
        assert (ours.trials_completed, ours.epochs_trained) == (
            theirs["trials_completed"],
            theirs["epochs_trained"],
        ), (tuner, seed)
        ours_hp = {h.trial_id: h.hyperparameters for h in ours.history}
        if tuner == "random":  # chosen by the oracle's seed alone: identical, trial by trial
            assert ours_hp == theirs["trials"], seed


def test_test_accuracy_does_not_differ_from_the_plain_script(pairs):
    ours = [o.test_accuracy for o, _ in pairs.values()]
    theirs = [t["test_accuracy"] for _, t in pairs.values()]
    assert wilcoxon_p(ours, theirs) > 0.05
    assert abs(np.mean(ours) - np.mean(theirs)) < 2 / 114
