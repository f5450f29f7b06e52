"""hpo's Bayesian oracle chooses Keras Tuner's trials, bit for bit, in less time."""

from __future__ import annotations

import math
from typing import Any

import keras_tuner as kt
import numpy as np
import pytest
import scipy.optimize

from hpo.experiment.space import declare
from hpo.tuners._fastgp import QuickBayesianOracle

COMPLETED = kt.engine.trial.TrialStatus.COMPLETED


def _score_smooth(values: dict[str, Any]) -> float:
    width = sum(values.get(f"units_{i}", 0) for i in range(values["num_layers"]))
    return 0.9 + 0.05 * math.tanh(width / 400) - 0.1 * abs(values["dropout"] - 0.2)


def _score_saturated(values: dict[str, Any]) -> float:
    # Validation accuracy on 91 rows saturates: many trials tie at the top, as in real searches.
    return min(1.0, round(91 * _score_smooth(values) + 3 * (values["activation"] == "tanh")) / 91)


def _drive(oracle: Any, score: Any, directory: str, trials: int) -> tuple[list, list]:
    """Run `oracle` for `trials` made-up trials; its values, and every L-BFGS-B result."""
    oracle._set_project_dir(directory, "fastgp")
    declare(oracle.hyperparameters)
    oracle.verbose = 0
    proposed, minimised = [], []
    minimize = scipy.optimize.minimize

    def recording(*args: Any, **kwargs: Any) -> Any:
        result = minimize(*args, **kwargs)
        minimised.append((result.x.tobytes(), float(np.ravel(result.fun)[0]), result.nfev))
        return result

    scipy.optimize.minimize = recording
    try:
        for _ in range(trials):
            trial = oracle.create_trial("t")
            values = dict(trial.hyperparameters.values)
            proposed.append(values)
            oracle.update_trial(trial.trial_id, {"val_accuracy": score(values)})
            trial.status = COMPLETED
            oracle.end_trial(trial)
    finally:
        scipy.optimize.minimize = minimize
    return proposed, minimised


@pytest.mark.parametrize(
    ("score", "seed"), [(_score_smooth, 11), (_score_saturated, 2024)], ids=["smooth", "saturated"]
)
def test_the_acquisition_search_is_keras_tuners_bit_for_bit(score, seed, tmp_path):
    objective = kt.Objective("val_accuracy", "max")
    settings = dict(objective=objective, max_trials=9, num_initial_points=3, seed=seed)
    stock = _drive(kt.oracles.BayesianOptimizationOracle(**settings), score, str(tmp_path / "a"), 9)
    quick = _drive(QuickBayesianOracle(**settings), score, str(tmp_path / "b"), 9)
    assert len(stock[1]) == 6 * 50 + 6 * 21  # 6 GP trials: 50 acquisition starts, 21 GP fits
    assert quick[0] == stock[0]  # the same trials
    assert quick[1] == stock[1]  # and every minimisation on the way: same x, value, evaluations
