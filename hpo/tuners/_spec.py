"""`TunerSpec`, the registry that resolves tuner names, seeds for oracles, planned budgets."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import importlib.util
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import numpy as np

from hpo.errors import HpoError
from hpo.experiment.profiles import Profile
from hpo.experiment.registry import entry_point, module_attr

ENTRY_POINT_GROUP = "hpo.tuners"
BUILTIN = {  # name -> module holding its SPEC
    "hyperband": "hpo.tuners.hyperband",
    "bayesian": "hpo.tuners.bayesian",
    "random": "hpo.tuners.random",
    "tpe": "hpo.tuners.tpe",
    "cmaes": "hpo.tuners.cmaes",
    "sobol": "hpo.tuners.sobol",
    "gp": "hpo.tuners.gp",
    "bohb": "hpo.tuners.bohb",
    "hyperband-bayesian": "hpo.tuners.hyperband_bayesian",
    "nsga2": "hpo.tuners.nsga2",
    "motpe": "hpo.tuners.motpe",
}


@dataclass(frozen=True)
class Budget:
    """Trials and epochs a search trains if no trial fails."""

    trials: int
    epochs: int


@dataclass(frozen=True)
class TunerContext:
    """What an oracle factory is given for one cell."""

    seed: int  # the oracle's seed: derived from the cell seed, never 0 (see oracle_seed)
    profile: Profile
    objective: str  # the metric the oracle optimises, e.g. "val_accuracy"
    task: str = "breast_cancer"  # for an oracle that needs the model's size (hpo.experiment.space)

    @property
    def max_trials(self) -> int:
        return self.profile.max_trials

    @property
    def epochs(self) -> int:
        return self.profile.epochs


@dataclass(frozen=True)
class TunerSpec:
    """How to build one tuner for a cell.

    `make_oracle(context)` returns a Keras Tuner Oracle. `runner()` returns the
    Keras Tuner class that runs its trials (default `keras_tuner.Tuner`: each
    trial trains `profile.epochs`); a multi-fidelity oracle needs its own, such
    as Hyperband's, which sets each trial's epochs and reloads parent weights.
    `plan(profile)` says what the search will train (default max_trials x
    epochs); `trials_fixed` is False when the trial count depends on results
    (a failed Hyperband trial is not promoted).
    """

    name: str
    make_oracle: Callable[[TunerContext], Any]
    runner: Callable[[], type] | None = None
    plan: Callable[[Profile], Budget] | None = None
    trials_fixed: bool = True
    project_name: str = ""
    settings: Callable[[Profile], str] | None = None  # its settings in words, for reports
    # A module its oracle needs that hpo does not install by default, and what installs it.
    requires: tuple[str, str] | None = None

    def budget(self, profile: Profile) -> Budget:
        if self.plan is not None:
            return self.plan(profile)
        return Budget(profile.max_trials, profile.max_trials * profile.epochs)

    def describe(self, profile: Profile) -> str:
        """Its settings on `profile`, in words (the report's provenance block)."""
        if self.settings is not None:
            return self.settings(profile)
        return f"{profile.max_trials} trials x {profile.epochs} epochs"

    @property
    def project(self) -> str:
        """Keras Tuner's project folder name."""
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.name)
        return self.project_name or f"{safe}_tuning"


def oracle_seed(seed: int) -> int:
    """A non-zero oracle seed derived from the cell seed.

    Keras Tuner does `seed or random.randint(...)`, so seed 0 would become a
    random seed; and its oracles step their seed by one per sampled value, so
    cell seeds 0 and 1 used directly would replay each other's configurations
    shifted by one. Spreading the seed through NumPy's SeedSequence avoids both.
    """
    derived = int(np.random.SeedSequence(seed).generate_state(1, dtype=np.uint32)[0])
    return derived % (2**31 - 1) + 1


TrialSeeds = Callable[[int, int], int]  # (cell seed, trial index) -> the trial's seed


def trial_seed(seed: int, index: int) -> int:
    """The seed of trial number `index` (0, 1, ...): its weights, dropout and shuffles.

    A function of the cell seed and the trial's index, not of its id string:
    Keras Tuner pads ids to the width of `max_trials` ("0", "00", "0000"), so
    hashing the string would give trial k of each tuner other draws. With the
    index, trial k of every tuner on a seed starts from the same weights and
    shuffles (common random numbers, which sharpen paired comparisons).
    Seeding each trial, not once per search, makes a trial train the same way
    whether the search ran straight through, resumed after a kill, or handed
    the trial to another distributed worker.
    """
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint32)[0])


def tuner_names() -> list[str]:
    """The built-in tuners, then those installed packages register (`hpo.tuners` group)."""
    installed = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return list(dict.fromkeys([*BUILTIN, *installed]))


@functools.cache
def get_tuner(name: str) -> TunerSpec:
    """The spec of a built-in or installed tuner, or of `MODULE:ATTR` (a spec or a factory).

    A factory `f(context) -> keras_tuner.Oracle` runs full-fidelity trials in
    `keras_tuner.Tuner`. The spec is named by `name`, so records say what was asked for.
    """
    if name in BUILTIN:
        return _available(importlib.import_module(BUILTIN[name]).SPEC)
    loaded = entry_point(ENTRY_POINT_GROUP, name)
    if loaded is not None:
        return _as_spec(loaded, name)
    if ":" in name:
        return _as_spec(module_attr(name, "tuner"), name)
    raise HpoError(
        f"unknown tuner {name!r}; choose one of {', '.join(tuner_names())}, or MODULE:ATTR"
    )


def parse_tuners(text: str) -> list[str]:
    """Tuner names from a comma-separated list, each resolved through the tuner registry;
    `all` stands for every built-in and installed tuner."""
    parts = [n.strip() for n in text.split(",") if n.strip()]
    parts = [name for n in parts for name in (tuner_names() if n == "all" else [n])]
    names = [get_tuner(n).name for n in parts]
    if not names:
        raise HpoError(f"bad tuner list {text!r}: no tuners")
    return list(dict.fromkeys(names))


def _available(spec: TunerSpec) -> TunerSpec:
    """`spec`, if the optional module it needs is installed; a one-line HpoError if not."""
    if spec.requires is not None and importlib.util.find_spec(spec.requires[0]) is None:
        module, install = spec.requires
        raise HpoError(f"tuner {spec.name!r} needs {module}, which is not installed: {install}")
    return spec


def _as_spec(obj: Any, name: str) -> TunerSpec:
    if isinstance(obj, TunerSpec):
        return dataclasses.replace(obj, name=name)
    if callable(obj):
        return TunerSpec(name=name, make_oracle=obj)
    raise HpoError(f"tuner {name!r} is neither a TunerSpec nor an oracle factory")


@functools.cache
def planned_budget(name: str, profile: Profile) -> Budget:
    """Trials and epochs the named tuner's search trains on `profile` if no trial fails."""
    return get_tuner(name).budget(profile)


def budget_texts(tuners: list[str], profile: str) -> dict[str, str]:
    """Each tuner's settings and planned budget on `profile`, in words (the report's provenance).

    Resolved here, at the edge, so the analysis never imports a tuner. Only built-in
    tuners are described: a MODULE:ATTR or installed tuner is the user's code, which a
    report does not run (it may import TensorFlow, or need what only its machine has).
    """
    from hpo.experiment.profiles import PROFILES

    if profile not in PROFILES:
        return {}
    out = {}
    for tuner in tuners:
        if tuner not in BUILTIN:
            out[tuner] = "a tuner of its own (not imported to write a report)"
            continue
        spec = get_tuner(tuner)
        budget = spec.budget(PROFILES[profile])
        out[tuner] = (
            f"{spec.describe(PROFILES[profile])}: {budget.trials} trials, {budget.epochs} epochs"
        )
    return out


def dry_run(oracle: Any) -> Budget:
    """Drive `oracle` to its end with made-up scores, counting trials and epochs (no training).

    For multi-fidelity oracles whose plan is their own (Hyperband's brackets): the
    plan is then the oracle's, not a formula of ours. The search space is declared
    first, as a tuner does (an empty space makes every trial a duplicate).
    """
    import keras_tuner as kt

    from hpo.experiment.space import declare

    trials = epochs = 0
    with tempfile.TemporaryDirectory(prefix="hpo-plan-") as directory, _local_oracle():
        # What BaseTuner.__init__ does for its oracle: a folder for its state, the space.
        from hpo._keras_tuner import set_project_dir

        set_project_dir(oracle, directory, "plan")
        declare(oracle.hyperparameters)
        oracle.verbose = 0
        while True:
            trial = oracle.create_trial("planner")
            if trial.status != kt.engine.trial.TrialStatus.RUNNING:
                break
            values = trial.hyperparameters.values
            trials += 1
            epochs += values["tuner/epochs"] - values["tuner/initial_epoch"]
            oracle.update_trial(trial.trial_id, {oracle.objective.name: float(trials)})
            trial.status = kt.engine.trial.TrialStatus.COMPLETED
            oracle.end_trial(trial)
    return Budget(trials, epochs)


@contextlib.contextmanager
def _local_oracle() -> Iterator[None]:
    """Hide KERASTUNER_* while planning: inside a distributed worker, Keras Tuner would
    otherwise make the planning oracle a client of the real chief."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("KERASTUNER_")}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)
