"""Keras Tuner's distributed mode, started and stopped by hpo: chief + workers on 127.0.0.1."""

from __future__ import annotations

import pytest

from hpo.cli import main
from hpo.distributed import run_distributed
from hpo.profiles import get_profile
from hpo.tuners import planned_budget

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("tuner", ["hyperband", "random"])
def test_two_workers_share_one_search_and_train_its_whole_budget(tuner, tmp_path):
    result = run_distributed(tuner, 0, "smoke", workers=2, workdir=tmp_path)
    budget = planned_budget(tuner, get_profile("smoke"))
    assert result.workers == 2
    assert result.trials_failed == 0
    assert (result.trials_completed, result.epochs_trained) == (budget.trials, budget.epochs)
    ids = [h["trial_id"] for h in result.history]
    assert len(ids) == len(set(ids)) == budget.trials  # each trial ran once, on one worker
    assert 0.5 < result.test_accuracy <= 1.0
    assert list((tmp_path).glob("history-tuner*.json"))  # each worker wrote its part


def test_cli_refuses_zero_workers(capsys):
    assert main(["run", "--tuner", "random", "--seed", "0", "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--workers" in err
