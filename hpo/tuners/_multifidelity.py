"""Hyperband variants: BOHB's model-based brackets, and Hyperband followed by Bayesian refinement.

Both keep Keras Tuner's HyperbandOracle for the brackets (sizes, epochs,
promotions, parent weights) and change only where new configurations come
from, on the space declared on the oracle's `hyperparameters`. Every random
draw of theirs is seeded from the cell seed and the trial's index, and every
model is refitted from the oracle's saved trials taken in their creation order
(a plain Keras Tuner reload lists them in the order its files are found), so a
resumed search asks what the uninterrupted one asked.
"""

from __future__ import annotations

import warnings
from typing import Any

import keras_tuner as kt
import numpy as np

import hpo._keras_tuner as internals
from hpo.experiment.records import searched
from hpo.tuners._brackets import brackets_within
from hpo.tuners._fastgp import QuickBayesianOracle
from hpo.tuners._optuna_oracle import as_finished_trial, ask, check_space, direction, exact
from hpo.tuners._spec import trial_seed

RUNNING = kt.engine.trial.TrialStatus.RUNNING
COMPLETED = kt.engine.trial.TrialStatus.COMPLETED


def _cost(values: dict[str, Any]) -> int:
    return int(values["tuner/epochs"]) - int(values["tuner/initial_epoch"])


def _in_creation_order(oracle: Any) -> list[kt.engine.trial.Trial]:
    """The oracle's trials in the order they were created (Keras Tuner's `start_order`, which
    its state keeps; its trial ids are zero-padded creation indices), whatever order its
    `trials` dict was filled in."""
    position = {trial_id: i for i, trial_id in enumerate(oracle.start_order)}

    def key(trial: kt.engine.trial.Trial) -> tuple[int, int, str]:
        if trial.trial_id in position:
            return (0, position[trial.trial_id], "")
        digits = trial.trial_id.isdigit()
        return (1, int(trial.trial_id) if digits else 0, "" if digits else trial.trial_id)

    return sorted(oracle.trials.values(), key=key)


def _configuration(values: dict[str, Any]) -> dict[str, Any]:
    """A trial's values on the declared space: without Hyperband's own `tuner/` entries."""
    return searched(values)


class BOHBOracle(kt.oracles.HyperbandOracle):
    """Hyperband whose new configurations come from TPE (Falkner et al. 2018, BOHB).

    A bracket's first-round configuration is drawn at random with probability
    `random_fraction` (BOHB's 1/3) or while no budget has `min_points` results;
    otherwise from Optuna's multivariate TPE fitted to the results at the largest
    budget (epochs) that has `min_points` of them. BOHB's default `min_points` is
    the number of hyperparameters plus one.
    """

    def __init__(
        self,
        objective: str,
        max_epochs: int,
        factor: int,
        seed: int,
        random_fraction: float = 1 / 3,
        min_points: int = 8,
    ) -> None:
        super().__init__(objective=objective, max_epochs=max_epochs, factor=factor, seed=seed)
        self.random_fraction = random_fraction
        self.min_points = min_points

    def update_space(self, hyperparameters: Any) -> None:
        """Keras Tuner's, then the space is checked: one TPE cannot model is refused when the
        tuner first declares it, not when a bracket would need TPE."""
        super().update_space(hyperparameters)
        check_space(self.hyperparameters)

    def _random_values(self) -> dict[str, Any] | None:
        check_space(self.hyperparameters)  # also a space declared without update_space
        seed = trial_seed(self.seed, len(self.trials))
        if np.random.default_rng(seed).random() >= self.random_fraction:
            observed = self._largest_budget_results()
            if observed:
                values = self._proposal(observed, seed)
                if not self._duplicate(values):
                    return values
        return super()._random_values()

    def _duplicate(self, values: dict[str, Any]) -> bool:
        """Whether `values` were tried, whoever drew them: TPE's stepped Floats are exact
        decimals (0.3), Keras Tuner's random ones its grid's sums (0.30000000000000004)."""
        if super()._duplicate(values):
            return True
        key = self._exact_hash(values)
        return any(self._exact_hash(t.hyperparameters.values) == key for t in self.trials.values())

    def _exact_hash(self, values: dict[str, Any]) -> str:
        return str(self._compute_values_hash(exact(_configuration(values), self.hyperparameters)))

    def _largest_budget_results(self) -> list[kt.engine.trial.Trial]:
        by_budget: dict[int, list[kt.engine.trial.Trial]] = {}
        for trial in _in_creation_order(self):
            if trial.status == COMPLETED and trial.score is not None:
                budget = int(trial.hyperparameters.values["tuner/epochs"])
                by_budget.setdefault(budget, []).append(trial)
        enough = [b for b, trials in by_budget.items() if len(trials) >= self.min_points]
        return by_budget[max(enough)] if enough else []

    def _proposal(self, observed: list[kt.engine.trial.Trial], seed: int) -> dict[str, Any]:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                n_startup_trials=0, multivariate=True, group=True, seed=seed
            )
            study = optuna.create_study(direction=direction(self.objective), sampler=sampler)
            space = self.hyperparameters
            study.add_trials(
                [as_finished_trial(t.hyperparameters.values, t.score, space) for t in observed]
            )
            return ask(study.ask(), space)


class HyperbandBayesianOracle(kt.oracles.HyperbandOracle):
    """The seed report's recommendation: Hyperband to explore, then Bayesian optimisation.

    Exploration runs Keras Tuner's Hyperband brackets, the most exploratory
    first, as many whole brackets as fit in `exploration` of `budget_epochs`
    (at least one). Refinement then runs full-epoch trials chosen by Keras
    Tuner's GP (`bayesian`'s oracle), fitted from the start on every result of
    the exploration, as many as the rest of the budget pays for. A configuration
    already tried is never handed out again: when the GP picks one, a new one is
    drawn at random, and when none is left (a finite space) the search STOPs.
    """

    def __init__(
        self,
        objective: str,
        max_epochs: int,
        factor: int,
        budget_epochs: int,
        seed: int,
        exploration: float = 0.5,
    ) -> None:
        super().__init__(objective=objective, max_epochs=max_epochs, factor=factor, seed=seed)
        self.budget_epochs = budget_epochs
        self.exploration_brackets = brackets_within(max_epochs, factor, exploration * budget_epochs)
        self._refiner = QuickBayesianOracle(
            objective=objective, max_trials=None, num_initial_points=1, seed=seed
        )

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        refining = any(_refines(t.hyperparameters.values) for t in self.trials.values())
        last_bracket = self._get_num_brackets() - self.exploration_brackets
        if not refining:
            before = internals.hyperband_state(self)
            response = super().populate_space(trial_id)
            status = response["status"]
            if status == RUNNING and response["values"]["tuner/bracket"] >= last_bracket:
                return response
            if status not in (RUNNING, kt.engine.trial.TrialStatus.STOPPED):
                return response  # waiting for a running trial's result (distributed)
            if self.ongoing_trials:
                # Exploration is still running on other workers: Hyperband, asked early,
                # would start a bracket beyond it; wait for exploration to end instead (as
                # one worker would), its proposal not taken.
                internals.set_hyperband_state(self, before)
                return {"status": kt.engine.trial.TrialStatus.IDLE}
        return self._refine(trial_id)

    def _refine(self, trial_id: str) -> dict[str, Any]:
        explored = sum(
            _cost(t.hyperparameters.values)
            for t in self.trials.values()
            if not _refines(t.hyperparameters.values)
        )
        refined = sum(_refines(t.hyperparameters.values) for t in self.trials.values())
        if refined >= (self.budget_epochs - explored) // self.max_epochs:
            if self.ongoing_trials:
                return {"status": kt.engine.trial.TrialStatus.IDLE}
            return {"status": kt.engine.trial.TrialStatus.STOPPED}
        seed = trial_seed(self.seed, len(self.trials))
        refiner = self._refiner
        refiner.hyperparameters = self.hyperparameters
        refiner.trials = {t.trial_id: t for t in _in_creation_order(self)}
        refiner.ongoing_trials = self.ongoing_trials
        refiner._tried_so_far = {
            refiner._compute_values_hash(_configuration(t.hyperparameters.values))
            for t in self.trials.values()
        }
        refiner._random_state = np.random.RandomState(seed)
        response = refiner.populate_space(trial_id)
        if response["status"] == RUNNING and refiner._duplicate(response["values"]):
            # The GP's pick was tried (at any fidelity): one not tried, at random, as Keras
            # Tuner's own oracles do; none left after their collisions ends the search.
            refiner._seed_state = seed
            values = refiner._random_values()
            response = {"status": RUNNING, "values": values} if values is not None else {}
        if response.get("status") != RUNNING:  # the space has no configuration left to try
            return {"status": kt.engine.trial.TrialStatus.STOPPED}
        values = dict(response["values"])
        values.update(
            {"tuner/epochs": self.max_epochs, "tuner/initial_epoch": 0, "tuner/phase": "refine"}
        )
        return {"status": RUNNING, "values": values}


def _refines(values: dict[str, Any]) -> bool:
    return values.get("tuner/phase") == "refine"
