"""Real smoke-sized searches, end to end: what a cell records, and that it is repeatable."""

from __future__ import annotations

import numpy as np
import pytest

from hpo.engines.keras_fit import QuickFit
from hpo.experiment.model import build_model, fixed_hyperparameters
from hpo.experiment.profiles import get_profile
from hpo.experiment.space import declare
from hpo.run.cell import Cell, run_cell
from hpo.tuners import planned_budget, tuner_names

TUNERS = tuner_names()

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_cells(tmp_path_factory):
    """One smoke cell per tuner on seed 0, each in its own directory."""
    return {
        name: run_cell(Cell.of(name, 0, "smoke"), workdir=tmp_path_factory.mktemp(name))
        for name in TUNERS
    }


@pytest.mark.parametrize("name", sorted(TUNERS))
def test_smoke_cell_records_a_real_search(smoke_cells, name):
    r = smoke_cells[name]
    budget = planned_budget(name, get_profile("smoke"))
    assert (r.tuner, r.seed, r.profile) == (name, 0, "smoke")
    assert r.trials_failed == 0
    assert (r.trials_completed, r.epochs_trained) == (budget.trials, budget.epochs)
    assert len(r.history) == r.trials_completed
    assert sum(h.epochs for h in r.history) == r.epochs_trained
    elapsed = [h.elapsed_s for h in r.history]
    assert elapsed == sorted(elapsed) and 0 < elapsed[-1] <= r.wall_time_s
    # The best validation score is the max over the trials it was selected from.
    assert r.best_val_accuracy == max(h.val_accuracy for h in r.history)
    assert 0 <= r.test_accuracy <= 1 and r.test_loss > 0
    # Accuracy on n rows is a multiple of 1/n.
    assert round(r.test_accuracy * r.n_test, 3) == round(r.test_accuracy * r.n_test)
    assert (r.n_train, r.n_val, r.n_test) == (364, 91, 114)
    assert "learning_rate" in r.best_hyperparameters
    assert not any(k.startswith("tuner/") for k in r.best_hyperparameters)


def test_another_seed_gives_another_record(smoke_cells, tmp_path):
    other = run_cell(Cell.of("random", 1, "smoke"), workdir=tmp_path)
    assert (
        other.history[0].hyperparameters != smoke_cells["random"].history[0].hyperparameters
        or other.test_accuracy != smoke_cells["random"].test_accuracy
    )


def test_a_hypermodel_that_always_fails_is_reported_not_hidden(tmp_path):
    def broken(hp):
        raise ValueError("this model cannot be built")

    with pytest.raises(Exception, match="cannot be built"):
        run_cell(Cell.of("random", 0, "smoke"), workdir=tmp_path, hypermodel=broken)


class RecordingFit(QuickFit):
    """A fixed model whatever the hyperparameters: what each trial starts from and trains."""

    def __init__(self) -> None:
        super().__init__(self._fixed)
        self.trials: list[dict] = []

    @staticmethod
    def _fixed(hp):
        declare(hp)  # the oracle still samples the space
        return build_model(fixed_hyperparameters(FIXED))

    def fit(self, hp, model, *args, **kwargs):
        start = [w.copy() for w in model.get_weights()]
        history = super().fit(hp, model, *args, **kwargs)
        self.trials.append({"start": start, "loss": history.history["loss"]})
        return history


FIXED = {
    "num_layers": 2,
    "units_0": 64,
    "units_1": 32,
    "activation": "relu",
    "dropout": 0.2,
    "learning_rate": 0.01,
}


def test_trial_k_of_every_tuner_starts_from_the_same_draws(tmp_path):
    # Common random numbers: hyperband's trial ids are padded ("00"), random's are not ("0");
    # the seeds come from the trial's index, so the same model trains identically.
    runs = {}
    for name in ("hyperband", "random"):
        fit = RecordingFit()
        run_cell(Cell.of(name, 3, "smoke"), workdir=tmp_path / name, hypermodel=fit)
        runs[name] = fit.trials
    hb, rs = runs["hyperband"][0], runs["random"][0]
    for a, b in zip(hb["start"], rs["start"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(hb["loss"]) == 1 and len(rs["loss"]) == 3  # smoke: 1 epoch against 3
    assert hb["loss"][0] == rs["loss"][0]  # the same first epoch: weights, dropout, shuffle
    # and another trial index draws other weights
    assert not np.array_equal(runs["random"][1]["start"][0], rs["start"][0])


def test_a_finished_cell_leaves_no_oracle_behind(monkeypatch):
    # Keras Tuner keeps each oracle it locks in module-level dicts; a worker process runs
    # several cells, so each cell must take its oracle (and all its trials) out again.
    import gc
    import weakref

    import hpo.run.search

    oracles = []
    make = hpo.run.search.make_tuner

    def recording(*args, **kwargs):
        tuner = make(*args, **kwargs)
        oracles.append(weakref.ref(tuner.oracle))
        return tuner

    monkeypatch.setattr(hpo.run.search, "make_tuner", recording)
    run_cell(Cell.of("random", 0, "smoke"))
    gc.collect()
    assert len(oracles) == 1
    assert oracles[0]() is None, "the finished cell's oracle is still referenced"
