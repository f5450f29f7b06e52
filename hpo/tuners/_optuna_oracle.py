"""The Optuna adapter: a Keras Tuner `Oracle` that asks an Optuna study for each trial.

Keras Tuner still runs and records the trials; Optuna only decides them. The
space is asked define-by-run (`suggest`), so the units of inactive layers are
never sampled. The study lives in the cell's work folder as Optuna's journal
file, so a killed search resumes with the sampler's stored state (CMA-ES's
optimiser, the QMC sequence's position). What Optuna keeps in memory only (its
random generator) is rebuilt for every trial from the cell seed and the trial's
index, so a resumed search asks exactly what the uninterrupted one asked.

A multi-objective study (`sizes_for`, a task) is told two values per trial:
the oracle's score and the model's size on hpo.analysis.pareto's [0, 1] log scale, the
pair its Pareto set and hypervolume are scored on. Keras Tuner's own objective
stays the score alone, so the cell's best model is still the best-scoring one.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras_tuner as kt
import numpy as np

from hpo.experiment.profiles import Profile
from hpo.experiment.space import SPACE, SearchSpace
from hpo.tuners._optuna import SamplerFactory, SamplerSeeds
from hpo.tuners._spec import trial_seed

JOURNAL = "optuna-journal.log"
STUDY = "hpo"


def suggest(trial: Any, space: SearchSpace = SPACE) -> dict[str, Any]:
    """Ask an Optuna trial for one point of `space`; the values Keras Tuner records.

    Dropout is asked on Optuna's stepped grid and snapped to the space's exact
    decimal (Optuna's steps are sums of floats: 0.30000000000000004).
    """
    num_layers = trial.suggest_int("num_layers", space.min_layers, space.max_layers)
    values: dict[str, Any] = {"num_layers": num_layers}
    for i in range(num_layers):
        values[f"units_{i}"] = trial.suggest_int(
            f"units_{i}", space.min_units, space.max_units, step=space.units_step
        )
    values["activation"] = trial.suggest_categorical("activation", list(space.activations))
    dropout = trial.suggest_float(
        "dropout", space.min_dropout, space.max_dropout, step=space.dropout_step
    )
    values["dropout"] = min(space.dropout_values, key=lambda v: abs(v - dropout))
    values["learning_rate"] = trial.suggest_categorical("learning_rate", list(space.learning_rates))
    return values


def direction(objective: Any) -> Any:
    """Optuna's direction for a Keras Tuner objective."""
    from optuna.study import StudyDirection

    return StudyDirection.MAXIMIZE if objective.direction == "max" else StudyDirection.MINIMIZE


def as_finished_trial(values: Mapping[str, Any], score: float, space: SearchSpace = SPACE) -> Any:
    """A completed Optuna trial holding Keras Tuner's `values` and `score` (for a model
    that is fitted on Keras Tuner's trials, such as BOHB's)."""
    import optuna

    recorder = _Recorder(values)
    suggest(recorder, space)
    return optuna.trial.create_trial(
        params=recorder.params, distributions=recorder.distributions, value=score
    )


class _Recorder:
    """Answers `suggest`'s questions from given values, noting each question's distribution."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        self.params: dict[str, Any] = {}
        self.distributions: dict[str, Any] = {}

    def _answer(self, name: str, distribution: Any) -> Any:
        self.params[name] = self.values[name]
        self.distributions[name] = distribution
        return self.values[name]

    def suggest_int(self, name: str, low: int, high: int, step: int = 1) -> Any:
        from optuna.distributions import IntDistribution

        return self._answer(name, IntDistribution(low, high, step=step))

    def suggest_float(self, name: str, low: float, high: float, step: float) -> Any:
        from optuna.distributions import FloatDistribution

        return self._answer(name, FloatDistribution(low, high, step=step))

    def suggest_categorical(self, name: str, choices: list[Any]) -> Any:
        from optuna.distributions import CategoricalDistribution

        return self._answer(name, CategoricalDistribution(choices))


class OptunaOracle(kt.Oracle):
    """A Keras Tuner oracle whose trials an Optuna study decides (ask), and learns (tell).

    Optuna trial number k is Keras Tuner's trial k (its creation index). The
    study is reconciled with Keras Tuner's saved state before each ask, for a
    search killed between the two stores' writes: a trial Keras Tuner ended but
    Optuna was not told of is told; a trial Optuna handed out but Keras Tuner
    never recorded is handed out again, unchanged, as the next trial.
    """

    def __init__(
        self,
        objective: str,
        max_trials: int,
        sampler: SamplerFactory,
        profile: Profile,
        seed: int,
        space: SearchSpace = SPACE,
        sizes_for: str | None = None,
    ) -> None:
        super().__init__(objective=objective, max_trials=max_trials, seed=seed)
        self._sizes_for = sizes_for
        self._make_sampler = sampler
        self._profile = profile
        self._space = space
        self._study: Any = None

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        import optuna

        study = self._open_study()
        index = len(self.trials)  # the index of the trial being created (its id, unpadded)
        self._reconcile(study)
        handed_out = [t for t in study.get_trials(deepcopy=False) if t.number == index]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.sampler = self._make_sampler(self._seeds(index), self._profile)
            if handed_out:
                trial = optuna.trial.Trial(study, handed_out[0]._trial_id)
            else:
                trial = study.ask()
            if trial.number != index:
                raise RuntimeError(
                    f"Optuna trial {trial.number} would be Keras Tuner's trial {index}: the study"
                    f" in {self._journal()} is not this search's; start over with --force"
                )
            values = suggest(trial, self._space)
        return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": values}

    def end_trial(self, trial: kt.engine.trial.Trial) -> None:
        super().end_trial(trial)
        if trial.trial_id in self.end_order:  # ended for good, not sent back for a retry
            self._tell(self._open_study(), self.trials[trial.trial_id])

    def _seeds(self, index: int) -> SamplerSeeds:
        return SamplerSeeds(cell=int(self.seed), trial=trial_seed(self.seed, index))

    def _journal(self) -> Path:
        return Path(self._project_dir) / JOURNAL

    def _open_study(self) -> Any:
        if self._study is None:
            import optuna
            from optuna.storages import JournalStorage
            from optuna.storages.journal import JournalFileBackend

            optuna.logging.set_verbosity(optuna.logging.WARNING)  # progress is hpo's
            path = self._journal()
            _repair_journal(path)
            storage = JournalStorage(JournalFileBackend(str(path)))
            directions = [direction(self.objective)]
            if self._sizes_for is not None:
                directions.append(optuna.study.StudyDirection.MINIMIZE)
            self._study = optuna.create_study(
                storage=storage, study_name=STUDY, directions=directions, load_if_exists=True
            )
        return self._study

    def _reconcile(self, study: Any) -> None:
        import optuna

        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        for frozen in running:
            if frozen.number < len(self.start_order):
                trial = self.trials[self.start_order[frozen.number]]
                if trial.trial_id in self.end_order:
                    self._tell(study, trial)

    def _tell(self, study: Any, trial: kt.engine.trial.Trial) -> None:
        import optuna

        number = self.start_order.index(trial.trial_id)
        score = trial.score
        if trial.status == kt.engine.trial.TrialStatus.COMPLETED and np.isfinite(score or np.nan):
            values = [float(score)]
            if self._sizes_for is not None:
                from hpo.analysis.pareto import size
                from hpo.experiment.space import param_count
                from hpo.experiment.tasks import get_task

                task = get_task(self._sizes_for)
                values.append(size(param_count(trial.hyperparameters.values, task), task))
            study.tell(number, values, skip_if_finished=True)
        else:
            study.tell(number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)


def _repair_journal(path: Path) -> None:
    """Drop what a kill mid-write left: an unfinished last line, and the writer's lock.

    Optuna skips an unfinished last line when reading but would append the next
    record to it, and waits for a stale lock to age. A cell's study has one
    writer, the process running the cell, so a lock found at open is stale.
    """
    Path(f"{path}.lock").unlink(missing_ok=True)
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)
