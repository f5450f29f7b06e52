"""Failed trials: recorded with their reason, counted, and the search goes on, until too many."""

from __future__ import annotations

import json

import pytest

from hpo.errors import CellStopped
from hpo.experiment.records import TrialStatus
from hpo.run.cell import Cell, run_cell
from tests.helpers import Diverging, Raising

pytestmark = pytest.mark.slow


def test_a_diverged_trial_is_failed_with_its_reason_and_the_search_goes_on(tmp_path):
    r = run_cell(Cell.of("random", 0, "smoke"), tmp_path, hypermodel=Diverging(lambda n: n == 2))
    assert (r.trials_completed, r.trials_failed) == (2, 1)
    failed = r.history[1]
    assert failed.status == TrialStatus.FAILED and failed.val_accuracy is None
    assert "loss became nan at epoch 1: the model diverged" in failed.error
    assert failed.epochs == 1  # it stopped where it diverged
    assert r.epochs_trained == 3 + 1 + 3
    assert all(h.status == TrialStatus.COMPLETED for h in (r.history[0], r.history[2]))
    # The best trial is chosen among the completed ones only.
    assert r.best_val_accuracy == max(r.history[i].val_accuracy for i in (0, 2))


def test_a_raising_trial_is_failed_with_its_reason(tmp_path):
    r = run_cell(Cell.of("hyperband", 0, "smoke"), tmp_path, hypermodel=Raising(lambda n: n == 1))
    assert r.trials_failed == 1 and r.trials_completed >= 1
    assert r.history[0].status == TrialStatus.FAILED
    assert r.history[0].error == "ValueError: fit number 1 refuses to train"
    assert r.history[0].epochs == 0


def test_failures_in_a_row_stop_the_cell_with_one_clear_line(tmp_path):
    with pytest.raises(CellStopped) as stopped:
        run_cell(Cell.of("random", 0, "smoke"), tmp_path, hypermodel=Diverging(lambda n: True))
    message = str(stopped.value)
    assert len(message.splitlines()) == 1
    assert "random seed=0 smoke: stopped, number of consecutive failures exceeded" in message
    assert "the model diverged" in message
    # The trials that failed are in the log the message names.
    log = json.loads((tmp_path / "random_tuning" / "hpo-history-tuner0.json").read_text())
    assert [h["status"] for h in log["history"]] == ["FAILED"] * 3
    assert all("diverged" in h["error"] for h in log["history"])
