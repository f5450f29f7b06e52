"""The Optuna adapter: a Keras Tuner `Oracle` that asks an Optuna study for each trial.

Keras Tuner still runs and records the trials; Optuna only decides them. The
space Optuna is asked for is the one declared on the oracle's `hyperparameters`
(by the hypermodel's first build, or by the caller), translated define-by-run
(`ask`): each hyperparameter in declaration order, those whose conditional
scopes are not met by the values asked so far skipped, so the units of
inactive layers are never sampled. On hpo's own space (`hpo.experiment.space`)
this asks Optuna exactly what hpo always asked it: the same distributions, in
the same order, the same snapped values. A hyperparameter Optuna has no
distribution for is refused in one line when the oracle first sees the space.

As Keras Tuner's own oracles do, a configuration already tried is not handed
out again: it is asked again, at random, and a space that yields only tried
configurations `_max_collisions` times in a row has run out (the search STOPs).

The study lives in the cell's work folder as Optuna's journal file, so a killed
search resumes with the sampler's stored state (CMA-ES's optimiser, the QMC
sequence's position). What Optuna keeps in memory only (its random generator)
is rebuilt for every trial from the cell seed and the trial's index, so a
resumed search asks exactly what the uninterrupted one asked.

A multi-objective study (`sizes_for`, a task) is told two values per trial:
the oracle's score and the model's size on hpo.analysis.pareto's [0, 1] log scale, the
pair its Pareto set and hypervolume are scored on. Keras Tuner's own objective
stays the score alone, so the cell's best model is still the best-scoring one.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import keras_tuner as kt
import numpy as np
from keras_tuner.engine import hyperparameters as hp_module

from hpo._keras_tuner import project_dir
from hpo.errors import HpoError
from hpo.experiment.profiles import Profile
from hpo.experiment.records import SIZE_METRIC
from hpo.tuners._sampler import SamplerFactory, SamplerSeeds
from hpo.tuners._spec import trial_seed

JOURNAL = "optuna-journal.log"
STUDY = "hpo"
# User attribute of an Optuna trial dropped because Keras Tuner had tried its values:
# the index of the Keras Tuner trial it was asked for.
DUPLICATE = "hpo_duplicate_of"


def check_space(hyperparameters: Any) -> None:
    """Raise a one-line HpoError for the first declared hyperparameter Optuna cannot ask."""
    for hp in hyperparameters.space:
        _distribution(hp)


def ask(trial: Any, hyperparameters: Any) -> dict[str, Any]:
    """Ask an Optuna trial for one point of the declared space; the values Keras Tuner records.

    Define-by-run, in declaration order; a hyperparameter is asked only if its
    conditions hold for the values asked before it; a Fixed one is not asked.
    """
    values: dict[str, Any] = {}
    for hp in hyperparameters.space:
        if hp.name in values or not _active(hp, values):
            continue
        distribution = _distribution(hp)
        if distribution is None:  # Fixed
            values[hp.name] = hp.value
            continue
        values[hp.name] = _snap(hp, _suggest(trial, hp.name, distribution))
    return values


def as_finished_trial(values: Mapping[str, Any], score: float, hyperparameters: Any) -> Any:
    """A completed Optuna trial holding Keras Tuner's `values` of the declared space and
    `score` (for a model that is fitted on Keras Tuner's trials, such as BOHB's)."""
    import optuna

    params: dict[str, Any] = {}
    distributions: dict[str, Any] = {}
    for hp in hyperparameters.space:
        if hp.name in params or hp.name not in values or not _active(hp, values):
            continue
        distribution = _distribution(hp)
        if distribution is not None:
            params[hp.name] = values[hp.name]
            distributions[hp.name] = distribution
    return optuna.trial.create_trial(params=params, distributions=distributions, value=score)


def exact(values: Mapping[str, Any], hyperparameters: Any) -> dict[str, Any]:
    """`values` with each stepped Float as its grid's exact decimal, however it was summed."""
    out = dict(values)
    for hp in hyperparameters.space:
        if hp.name in out and isinstance(hp, hp_module.Float) and hp.sampling == "linear":
            out[hp.name] = _snap(hp, out[hp.name])
    return out


def _active(hp: Any, values: Mapping[str, Any]) -> bool:
    return all(condition.is_active(values) for condition in hp.conditions)


def _distribution(hp: Any) -> Any:
    """Optuna's distribution for a Keras Tuner hyperparameter (None for a Fixed one)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(hp, hp_module.Fixed):
        return None
    if isinstance(hp, (hp_module.Boolean, hp_module.Choice)):
        return CategoricalDistribution(list(hp.values))
    if isinstance(hp, (hp_module.Int, hp_module.Float)):
        sampling = hp.sampling
        if sampling == "linear" and hp.step is not None:
            high = _grid(hp)[-1]  # Optuna wants the top on the grid
            if isinstance(hp, hp_module.Int):
                return IntDistribution(hp.min_value, int(high), step=hp.step)
            return FloatDistribution(hp.min_value, high, step=hp.step)
        if sampling in ("linear", "log") and hp.step is None:
            kind = IntDistribution if isinstance(hp, hp_module.Int) else FloatDistribution
            return kind(hp.min_value, hp.max_value, log=sampling == "log")
        if sampling == "log":
            reason = (
                f"sampling='log' with step={hp.step} (a multiplicative grid) has no Optuna"
                " distribution; drop the step, or declare a Choice of its values"
            )
        else:
            reason = f"sampling={sampling!r} has no Optuna distribution"
    else:
        reason = f"Optuna has no distribution for a {type(hp).__name__} hyperparameter"
    raise HpoError(f"hyperparameter {hp.name!r}: {reason}")


def _grid(hp: Any) -> list[float]:
    """A stepped linear Int's or Float's values, in exact decimals (0.3, not Keras Tuner's
    0.30000000000000004), up to the largest one within max_value."""
    low, step = Decimal(str(hp.min_value)), Decimal(str(hp.step))
    count = int((Decimal(str(hp.max_value)) - low) // step) + 1
    return [float(low + i * step) for i in range(count)]


def _snap(hp: Any, value: Any) -> Any:
    """A stepped Float's value as its grid's exact decimal (Optuna's steps are sums of
    floats: 0.30000000000000004)."""
    if isinstance(hp, hp_module.Float) and hp.step is not None and hp.sampling == "linear":
        return min(_grid(hp), key=lambda v: abs(v - value))
    return value


def _suggest(trial: Any, name: str, distribution: Any) -> Any:
    from optuna.distributions import FloatDistribution, IntDistribution

    d = distribution
    if isinstance(d, IntDistribution):
        return trial.suggest_int(name, d.low, d.high, step=d.step, log=d.log)
    if isinstance(d, FloatDistribution):
        return trial.suggest_float(name, d.low, d.high, step=d.step, log=d.log)
    return trial.suggest_categorical(name, list(d.choices))


def direction(objective: Any) -> Any:
    """Optuna's direction for a Keras Tuner objective."""
    from optuna.study import StudyDirection

    return StudyDirection.MAXIMIZE if objective.direction == "max" else StudyDirection.MINIMIZE


class OptunaOracle(kt.Oracle):
    """A Keras Tuner oracle whose trials an Optuna study decides (ask), and learns (tell).

    Keras Tuner's trial k (its creation index) is the k-th Optuna trial not
    dropped as a duplicate (`DUPLICATE`); with no duplicates, Optuna trial
    number k. The study is reconciled with Keras Tuner's saved state before
    each ask, for a search killed between the two stores' writes: a trial Keras
    Tuner ended but Optuna was not told of is told; a trial Optuna handed out
    but Keras Tuner never recorded is handed out again, unchanged, as the next trial.
    """

    def __init__(
        self,
        objective: str,
        max_trials: int,
        sampler: SamplerFactory,
        profile: Profile,
        seed: int,
        sizes_for: str | None = None,
    ) -> None:
        super().__init__(objective=objective, max_trials=max_trials, seed=seed)
        self._sizes_for = sizes_for
        self._make_sampler = sampler
        self._profile = profile
        self._study: Any = None

    def update_space(self, hyperparameters: Any) -> None:
        """Keras Tuner's, then the space is checked: a hyperparameter Optuna cannot ask is
        refused when the tuner first declares it, not when a trial would need it."""
        super().update_space(hyperparameters)
        check_space(self.hyperparameters)

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        import optuna

        check_space(self.hyperparameters)  # also a space declared without update_space
        if self._sizes_for is not None and self._own_mlp():  # known by the first trial
            _check_sizable(self.hyperparameters)
        study = self._open_study()
        index = len(self.trials)  # the index of the trial being created (its id, unpadded)
        self._reconcile(study)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            while True:
                trials = study.get_trials(deepcopy=False)
                attempt = sum(t.user_attrs.get(DUPLICATE) == index for t in trials)
                if attempt > self._max_collisions:  # only tried configurations: none left
                    return {"status": kt.engine.trial.TrialStatus.STOPPED}
                study.sampler = self._sampler(index, attempt)
                trial = self._handed_out(study, _kept(trials), index)
                values = ask(trial, self.hyperparameters)
                if not self._duplicate(values):
                    return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": values}
                trial.set_user_attr(DUPLICATE, index)  # first: a kill in between is undone
                study.tell(trial, state=optuna.trial.TrialState.FAIL)

    def _sampler(self, index: int, attempt: int) -> Any:
        """The tuner's sampler for a trial's first ask; Optuna's random sampler for an ask
        after a duplicate (Keras Tuner's own answer to one), seeded from the attempt."""
        if attempt == 0:
            return self._make_sampler(self._seeds(index), self._profile)
        import optuna

        seed = np.random.SeedSequence([int(self.seed), index, attempt]).generate_state(1)[0]
        return optuna.samplers.RandomSampler(seed=int(seed))

    def _handed_out(self, study: Any, kept: list[Any], index: int) -> Any:
        """The Optuna trial of Keras Tuner's trial `index`: one handed out before (a search
        killed before Keras Tuner recorded it), else a new one."""
        import optuna

        if len(kept) > index:
            return optuna.trial.Trial(study, kept[index]._trial_id)
        if len(kept) != index:
            raise RuntimeError(
                f"Optuna has {len(kept)} trials before Keras Tuner's trial {index}: the study"
                f" in {self._journal()} is not this search's; start over with --force"
            )
        return study.ask()

    def _end_trial(
        self, trial: Any = None, status: str = "COMPLETED", *, trial_id: str | None = None
    ) -> None:
        """Keras Tuner's end_trial, then Optuna is told of a trial that ended for good.

        Both of Keras Tuner's calling forms: `end_trial(trial)` and the older
        `end_trial(trial_id, status)`; the older keeps the trial's recorded values.
        """
        if trial is None or isinstance(trial, str):
            trial_id = trial if isinstance(trial, str) else trial_id
            if trial_id is None:
                raise TypeError("end_trial() needs a trial or a trial_id")
            recorded = self.trials[trial_id]
            trial = kt.engine.trial.Trial(recorded.hyperparameters.copy(), trial_id, status)
        super().end_trial(trial)
        if trial.trial_id in self.end_order:  # ended for good, not sent back for a retry
            self._tell(self._open_study(), self.trials[trial.trial_id])

    # Under the oracle's lock, as Keras Tuner's end_trial (whose own older-form conversion
    # would replace the trial's values by the space's defaults: it runs for "end_trial" only).
    end_trial = kt.synchronized(_end_trial)

    def _seeds(self, index: int) -> SamplerSeeds:
        return SamplerSeeds(cell=int(self.seed), trial=trial_seed(self.seed, index))

    def _journal(self) -> Path:
        return Path(project_dir(self)) / JOURNAL

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

        running = optuna.trial.TrialState.RUNNING
        trials = study.get_trials(deepcopy=False)
        for frozen in trials:  # a duplicate killed between its mark and its tell
            if frozen.state == running and DUPLICATE in frozen.user_attrs:
                study.tell(frozen.number, state=optuna.trial.TrialState.FAIL)
        for position, frozen in enumerate(_kept(trials)):
            if frozen.state == running and position < len(self.start_order):
                trial = self.trials[self.start_order[position]]
                if trial.trial_id in self.end_order:
                    self._tell(study, trial)

    def _tell(self, study: Any, trial: kt.engine.trial.Trial) -> None:
        import optuna

        kept = _kept(study.get_trials(deepcopy=False))
        position = self.start_order.index(trial.trial_id)
        if position >= len(kept):  # Keras Tuner's trial k is the k-th kept Optuna trial
            raise HpoError(
                f"trial {trial.trial_id} was not asked of Optuna (its study has {len(kept)}"
                f" trials for Keras Tuner's {position + 1}): a subclass's populate_space"
                " bypassed the study; an OptunaOracle's trials must come from its own"
                " populate_space"
            )
        number = kept[position].number
        score = trial.score
        if trial.status == kt.engine.trial.TrialStatus.COMPLETED and np.isfinite(score or np.nan):
            values = [float(score)]
            if self._sizes_for is not None:
                values.append(self._size(trial))
            study.tell(number, values, skip_if_finished=True)
        else:
            study.tell(number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)

    def _own_mlp(self) -> bool:
        """Whether the sized task searches hpo's own MLP (else its models are its own)."""
        from hpo.experiment.tasks import get_task

        return self._sizes_for is not None and get_task(self._sizes_for).searches_mlp

    def _size(self, trial: kt.engine.trial.Trial) -> float:
        """The size objective: hpo's own MLP's, from its hyperparameters (on [0, 1], as the
        report places it); a task's own model's, log10 of the parameters its built model
        has, which hpo's search logs as the trial's `params` metric (SIZE_METRIC)."""
        from hpo.experiment.tasks import get_task

        assert self._sizes_for is not None
        task = get_task(self._sizes_for)
        if task.searches_mlp:
            from hpo.analysis.pareto import size
            from hpo.experiment.space import param_count

            return size(param_count(trial.hyperparameters.values, task), task)
        params = trial.metrics.get_last_value(SIZE_METRIC)
        if params is None:
            raise HpoError(
                f"the model-size objective needs each trial's {SIZE_METRIC!r} metric, which"
                " hpo's search logs; this trial has none"
            )
        return float(np.log10(params))


def _check_sizable(hyperparameters: Any) -> None:
    """Refuse, in one line, a space whose models' size hpo cannot compute: the size
    objective is `hpo.experiment.space.param_count`, arithmetic on hpo's own MLP
    (`num_layers` and `units_0`, `units_1`, ...). Any model's size would need the
    parameter count of the built model, which the oracle never sees."""
    declared = {hp.name: hp for hp in hyperparameters.space}
    layers = declared.get("num_layers")
    if layers is None:
        missing = ["num_layers"]
    else:
        fixed = isinstance(layers, hp_module.Fixed)
        most = int(layers.value) if fixed else max(int(v) for v in layers.values)
        missing = [f"units_{i}" for i in range(most) if f"units_{i}" not in declared]
    if missing:
        raise HpoError(
            f"the model-size objective (nsga2, motpe) is computed for hpo's own MLP only:"
            f" the declared space has no {', '.join(missing)}"
        )


def _kept(trials: list[Any]) -> list[Any]:
    """The Optuna trials that are Keras Tuner's, in order: all but the dropped duplicates."""
    return [t for t in trials if DUPLICATE not in t.user_attrs]


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
