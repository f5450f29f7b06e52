"""The tuner registry, oracle seeds, planned budgets and the per-trial recorder.

A tuner here is Keras Tuner's own `Hyperband`, `BayesianOptimization` or
`RandomSearch`, with one mixin that records what each trial trained and when it
ended. Nothing about how trials are chosen or trained is changed.
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock

import keras_tuner as kt
import numpy as np

from hpo.fastgp import QuickBayesianOracle
from hpo.memory import rss_mb
from hpo.profiles import TUNER_NAMES, Profile, check_tuner
from hpo.progress import ProgressFn
from hpo.space import build_model
from hpo.training import QuickFit

OBJECTIVE = "val_accuracy"
BATCH_SIZE = 32  # Keras' default, which the seed report used implicitly


def oracle_seed(seed: int) -> int:
    """A non-zero oracle seed derived from the cell seed.

    Keras Tuner does `seed or random.randint(...)`, so seed 0 would become a
    random seed; and its oracles step their seed by one per sampled value, so
    cell seeds 0 and 1 used directly would replay each other's configurations
    shifted by one. Spreading the seed through NumPy's SeedSequence avoids both.
    """
    derived = int(np.random.SeedSequence(seed).generate_state(1, dtype=np.uint32)[0])
    return derived % (2**31 - 1) + 1


class TrialRecorder:
    """Mixin for a Keras Tuner tuner: counts epochs per trial and logs each finished trial."""

    def _start_recording(self, progress: ProgressFn | None) -> None:
        self.history: list[dict[str, Any]] = []
        self._epochs: dict[str, int] = {}
        self._progress = progress
        self._t0 = time.perf_counter()

    def on_search_begin(self) -> None:
        super().on_search_begin()  # type: ignore[misc]
        self._t0 = time.perf_counter()

    def on_epoch_end(self, trial, model, epoch, logs=None) -> None:
        super().on_epoch_end(trial, model, epoch, logs=logs)  # type: ignore[misc]
        self._epochs[trial.trial_id] = self._epochs.get(trial.trial_id, 0) + 1

    def on_trial_end(self, trial) -> None:
        super().on_trial_end(trial)  # type: ignore[misc]
        trial = self.oracle.get_trial(trial.trial_id)  # type: ignore[attr-defined]
        completed = trial.status == kt.engine.trial.TrialStatus.COMPLETED
        values = dict(trial.hyperparameters.values)
        entry = {
            "trial_id": trial.trial_id,
            "status": trial.status,
            "hyperparameters": {k: v for k, v in values.items() if not k.startswith("tuner/")},
            "val_accuracy": float(trial.score) if completed and trial.score is not None else None,
            "epochs": self._epochs.get(trial.trial_id, 0),
            "elapsed_s": time.perf_counter() - self._t0,
            "rss_mb": rss_mb(),
        }
        if "tuner/epochs" in values:
            entry["bracket"] = values["tuner/bracket"]
            entry["round"] = values["tuner/round"]
        self.history.append(entry)
        if self._progress is not None:
            self._progress(entry)


class RecordingHyperband(TrialRecorder, kt.Hyperband):
    pass


class RecordingBayesianOptimization(TrialRecorder, kt.Tuner):
    """Keras Tuner's BayesianOptimization: its tuner class with its oracle (quicker GP predict)."""


class RecordingRandomSearch(TrialRecorder, kt.RandomSearch):
    pass


def _hyperband(profile: Profile, seed: int, **common: Any) -> kt.Tuner:
    return RecordingHyperband(
        max_epochs=profile.hyperband_max_epochs,
        factor=profile.hyperband_factor,
        seed=oracle_seed(seed),
        project_name="hyperband_tuning",
        **common,
    )


def _bayesian(profile: Profile, seed: int, objective: str, **common: Any) -> kt.Tuner:
    oracle = QuickBayesianOracle(
        objective=objective,
        max_trials=profile.max_trials,
        num_initial_points=profile.num_initial_points,
        seed=oracle_seed(seed),
    )
    return RecordingBayesianOptimization(oracle=oracle, project_name="bayesian_tuning", **common)


def _random(profile: Profile, seed: int, **common: Any) -> kt.Tuner:
    return RecordingRandomSearch(
        max_trials=profile.max_trials,
        seed=oracle_seed(seed),
        project_name="random_tuning",
        **common,
    )


TunerFactory = Callable[..., kt.Tuner]
TUNERS: dict[str, TunerFactory] = {
    "hyperband": _hyperband,
    "bayesian": _bayesian,
    "random": _random,
}
assert tuple(TUNERS) == TUNER_NAMES, "hpo.profiles.TUNER_NAMES must list the registry"


def make_tuner(
    name: str,
    profile: Profile,
    seed: int,
    directory: str,
    hypermodel: Callable[[kt.HyperParameters], Any] | kt.HyperModel = build_model,
    progress: ProgressFn | None = None,
    overwrite: bool = True,
    idle_wait_s: float = 0.0,
) -> kt.Tuner:
    """A tuner of the registry's `name` working in `directory` (fresh unless `overwrite=False`).

    A model-building function is trained through `QuickFit`; a `HyperModel` is used as given.
    `idle_wait_s` makes a distributed worker wait that long after the chief answers
    "idle" (a Hyperband round waiting for results) instead of asking again at once.
    """
    if not isinstance(hypermodel, kt.HyperModel):
        hypermodel = QuickFit(hypermodel, shuffle_seed=seed)
    tuner = TUNERS[check_tuner(name)](
        profile,
        seed,
        hypermodel=hypermodel,
        objective=OBJECTIVE,
        directory=directory,
        overwrite=overwrite,
    )
    tuner._start_recording(progress)
    if idle_wait_s > 0:
        _wait_when_idle(tuner.oracle, idle_wait_s)
    tuner.oracle.verbose = 0  # progress is ours: one line per trial, not a table
    return tuner


def _wait_when_idle(oracle: kt.Oracle, seconds: float) -> None:
    ask = oracle.create_trial

    def create_trial(tuner_id: str) -> kt.engine.trial.Trial:
        trial = ask(tuner_id)
        if trial.status == kt.engine.trial.TrialStatus.IDLE:
            time.sleep(seconds)
        return trial

    oracle.create_trial = create_trial


@dataclass(frozen=True)
class Budget:
    trials: int
    epochs: int


@functools.cache
def planned_budget(name: str, profile: Profile) -> Budget:
    """Trials and epochs a search will run if no trial fails.

    For Hyperband this dry-runs Keras Tuner's own HyperbandOracle (no training),
    so the plan is the oracle's, not a formula of ours.
    """
    if check_tuner(name) != "hyperband":
        return Budget(profile.max_trials, profile.max_trials * profile.epochs)
    # Keras Tuner reads KERASTUNER_* at construction: inside a distributed worker this
    # planning tuner would otherwise become a client of the real chief.
    local = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    with (
        mock.patch.dict(os.environ, local, clear=True),
        tempfile.TemporaryDirectory(prefix="hpo-plan-") as directory,
    ):
        oracle = _hyperband(
            profile, 0, hypermodel=build_model, objective=OBJECTIVE, directory=directory
        ).oracle
        oracle.verbose = 0
        return _dry_run(oracle)


def _dry_run(oracle: kt.Oracle) -> Budget:
    """Drive `oracle` to its end with made-up scores, counting trials and epochs."""
    trials = epochs = 0
    while True:
        trial = oracle.create_trial("planner")
        if trial.status != "RUNNING":
            break
        values = trial.hyperparameters.values
        trials += 1
        epochs += values["tuner/epochs"] - values["tuner/initial_epoch"]
        oracle.update_trial(trial.trial_id, {OBJECTIVE: float(trials)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return Budget(trials, epochs)
