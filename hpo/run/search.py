"""One cell's Keras Tuner search: the tuner built from its spec, seeded and recorded per trial.

`make_tuner` builds the spec's oracle and runner class with `TrialRecorder`
mixed in; `atomic_state_writes` makes Keras Tuner's own state files safe to
resume from while a search runs (and only then).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import math
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import keras
import keras_tuner as kt
import numpy as np

import hpo._keras_tuner as internals
from hpo.engines.graph import GraphFit
from hpo.engines.keras_fit import QuickFit
from hpo.errors import HpoError
from hpo.experiment.profiles import Profile
from hpo.experiment.records import CURVE, SIZE_METRIC, Curve, TrialRecord
from hpo.experiment.results import read_json, write_json, write_text
from hpo.experiment.space import param_count
from hpo.experiment.tasks import Task
from hpo.run.memory import peak_rss_mb, rss_mb
from hpo.run.progress import ProgressFn
from hpo.run.runtime import interrupted
from hpo.tuners import TrialSeeds, TunerContext, TunerSpec, oracle_seed, trial_seed


class SearchedCell(Protocol):
    """What a search reads of its cell (`hpo.run.cell.Cell` is one): resolved values."""

    @property
    def spec(self) -> TunerSpec: ...
    @property
    def seed(self) -> int: ...
    @property
    def profile(self) -> Profile: ...
    @property
    def task(self) -> Task: ...
    @property
    def engine(self) -> str: ...


def trial_index(trial_id: str) -> int:
    """The creation index Keras Tuner writes, zero-padded, as a trial's id."""
    return int(trial_id)


FINISHED = (kt.engine.trial.TrialStatus.COMPLETED, kt.engine.trial.TrialStatus.FAILED)


@dataclass
class _Running:
    """What a running trial's record will hold that Keras Tuner's trial does not: the epochs
    it trained, its per-epoch curve, and its built model's size and engine."""

    epochs: int = 0
    curve: dict[str, list[float | None]] = field(
        default_factory=lambda: {name: [] for name in CURVE}
    )
    params: int | None = None
    engine: str | None = None

    def saved(self) -> dict[str, Any]:
        """As the trial log's `pending` entry keeps it (a kill may land before its record)."""
        return {
            "epochs": self.epochs,
            "curve": self.curve,
            "built": {k: v for k, v in (("params", self.params), ("engine", self.engine)) if v},
        }

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> _Running:
        built = saved.get("built") or {}
        curve = saved.get("curve") or {name: [] for name in CURVE}
        return cls(saved["epochs"], curve, built.get("params"), built.get("engine"))


class TrialRecorder:
    """Mixin for a Keras Tuner tuner: seeds each trial, counts its epochs, logs it when it ends.

    The log (`history`, a `TrialRecord` per finished trial) is saved atomically in the
    project folder after every trial, beside Keras Tuner's own state, so a search killed
    at any moment and started again over the same folder resumes with nothing lost and
    nothing counted twice: an entry is kept only if the oracle recorded its trial as
    finished, and a trial the oracle finished just before the kill (its log entry not yet
    written) gets its entry from the epochs saved before it ended.
    """

    def _start_recording(
        self,
        progress: ProgressFn | None,
        seed: int,
        task: Task,
        trial_seeds: TrialSeeds = trial_seed,
    ) -> None:
        self._cell_seed = seed
        self._trial_seeds = trial_seeds
        self._task = task
        self._progress = progress
        self._running: dict[str, _Running] = {}
        self._trial_id: str | None = None
        self.history: list[TrialRecord] = []
        self.resumes = 0
        self.elapsed_before_s = 0.0  # search time spent before the last resume
        self.log_path = Path(self.project_dir) / f"hpo-history-{self.tuner_id}.json"  # type: ignore[attr-defined]
        if self.log_path.exists():
            self._resume_log(read_json(self.log_path))
        self._t0 = time.perf_counter()

    def _resume_log(self, log: Any) -> None:
        if not isinstance(log, dict) or not isinstance(log.get("history"), list):
            raise HpoError(f"{self.log_path}: not an hpo trial log; start over with --force")
        history = [TrialRecord.from_dict(h) for h in log["history"]]
        self.history = [h for h in history if self._finished(h.trial_id)]
        pending = log.get("pending")
        logged = {h.trial_id for h in self.history}
        if (
            pending is not None
            and pending["trial_id"] not in logged
            and self._finished(pending["trial_id"])
        ):
            # Killed after the oracle saved this trial's end but before its entry was written.
            running = _Running.from_saved(pending)
            self.history.append(self._record(pending["trial_id"], running, log["elapsed_s"]))
        self.resumes = int(log["resumes"]) + 1
        self.elapsed_before_s = float(log["elapsed_s"])

    def _finished(self, trial_id: str) -> bool:
        """Whether the oracle's saved state counts `trial_id` as ended (it will not rerun it)."""
        oracle = self.oracle  # type: ignore[attr-defined]
        if hasattr(oracle, "end_order"):
            # A local oracle, reloaded: a trial file may say COMPLETED while oracle.json,
            # written after it, still lists the trial as running; then it runs again.
            return trial_id in oracle.end_order
        return oracle.get_trial(trial_id).status in FINISHED  # a distributed worker's client

    def search_time_s(self) -> float:
        """Search time so far, including time spent before a resume."""
        return self.elapsed_before_s + time.perf_counter() - self._t0

    def _save_log(self, pending: dict[str, Any] | None = None) -> None:
        # Rewritten whole twice per trial, so written compact (json's C encoder).
        write_json(
            self.log_path,
            {
                "history": [h.to_dict() for h in self.history],
                "pending": pending,
                "elapsed_s": self.search_time_s(),
                "resumes": self.resumes,
                "peak_rss_mb": peak_rss_mb(),
            },
            indent=None,
        )

    def on_search_begin(self) -> None:
        super().on_search_begin()  # type: ignore[misc]
        self._t0 = time.perf_counter()

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        seed = self._trial_seeds(self._cell_seed, trial_index(trial.trial_id))
        with _kernel_cache_kept(self._shares_graphs()):
            keras.utils.set_random_seed(seed)  # TensorFlow's part empties the kernel cache
        self._trial_id = trial.trial_id
        running = self._running.setdefault(trial.trial_id, _Running())
        running.params = running.engine = None
        if hasattr(self.hypermodel, "trained_by"):  # type: ignore[attr-defined]
            self.hypermodel.trained_by = None  # type: ignore[attr-defined]
        try:
            return super().run_trial(trial, *args, **kwargs)  # type: ignore[misc]
        except Exception:
            # Ctrl-C inside some of TensorFlow's callbacks into Python surfaces as another
            # error (SystemError); Keras Tuner would count the trial failed and go on.
            if interrupted():
                raise KeyboardInterrupt from None
            raise
        finally:
            engine = getattr(self.hypermodel, "trained_by", None)  # type: ignore[attr-defined]
            if engine is not None:
                running.engine = engine

    def _count_params(self, model: keras.Model) -> keras.Model:
        """Note the built model's trainable parameters for the running trial's log entry."""
        if self._trial_id is not None and isinstance(model, keras.Model):
            params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
            self._running.setdefault(self._trial_id, _Running()).params = params
        return model

    def _shares_graphs(self) -> bool:
        return getattr(self.hypermodel, "shares_graphs", False)  # type: ignore[attr-defined]

    def _try_build(self, hp: kt.HyperParameters) -> keras.Model:
        """Keras Tuner's clean-up before each build, minus what the graph engine cannot afford.

        Keras Tuner calls `keras.backend.clear_session()` and `gc.collect()` first.
        For a hypermodel whose graphs outlive its models (`GraphFit`), the kernel
        cache that clear_session empties is what lets the next model reuse them
        (emptied, the first epoch of every trial re-instantiates its graph). The
        collection is kept, and what survives it is frozen out of later scans, so
        each trial's collection scans only the objects made since the last one.
        """
        if not self._shares_graphs():
            return self._count_params(super()._try_build(hp))  # type: ignore[misc]
        with _kernel_cache_kept():
            keras.backend.clear_session(free_memory=False)
        gc.collect()
        gc.freeze()
        # The rest of Keras Tuner's _try_build (its max_model_size check is unused here).
        model = self._build_hypermodel(hp)  # type: ignore[attr-defined]
        if not isinstance(model, keras.Model):
            raise kt.errors.FatalTypeError(
                "Expected the model-building function, or HyperModel.build() to return a"
                f" valid Keras Model instance. Received: {model} of type {type(model)}."
            )
        return self._count_params(model)

    def on_epoch_end(
        self, trial: Any, model: Any, epoch: int, logs: dict[str, Any] | None = None
    ) -> None:
        running = self._running.setdefault(trial.trial_id, _Running())
        if logs is not None and running.params is not None and not self._task.searches_mlp:
            # The oracle never sees the model: a size objective (nsga2, motpe) reads this.
            # Set in place, so Keras' History (the last callback) reports it to the oracle.
            logs[SIZE_METRIC] = float(running.params)
        super().on_epoch_end(trial, model, epoch, logs=logs)  # type: ignore[misc]
        running.epochs += 1
        for name in CURVE:
            value = (logs or {}).get(name)
            running.curve[name].append(
                float(value) if value is not None and math.isfinite(value) else None
            )

    def on_trial_begin(self, trial: Any) -> None:
        super().on_trial_begin(trial)  # type: ignore[misc]
        self._running[trial.trial_id] = _Running()  # a retried (resumed) trial counts from zero

    def on_trial_end(self, trial: Any) -> None:
        running = self._running.get(trial.trial_id) or _Running()
        self._save_log(pending={"trial_id": trial.trial_id, **running.saved()})
        try:
            super().on_trial_end(trial)  # type: ignore[misc]
        finally:
            # Also when the oracle stops the search (too many failures in a row):
            # the failed trial is logged before the error propagates.
            self.history.append(self._record(trial.trial_id, running, self.search_time_s()))
            self._running.pop(trial.trial_id, None)
            self._save_log()
            if self._progress is not None:
                self._progress(self.history)

    def _record(self, trial_id: str, running: _Running, elapsed_s: float) -> TrialRecord:
        """The record of a finished trial, from the oracle's record of it."""
        trial = self.oracle.get_trial(trial_id)  # type: ignore[attr-defined]
        params = running.params
        if params is None and self._task.searches_mlp:  # not built (it failed first): the space's
            params = param_count(dict(trial.hyperparameters.values), self._task)
        return TrialRecord.of(
            trial,
            on_accuracy=self._task.objective == "val_accuracy",
            epochs=running.epochs,
            elapsed_s=elapsed_s,
            params=params,
            rss_mb=rss_mb(),
            engine=running.engine,
            curve=Curve.of(running.curve),
        )


@contextlib.contextmanager
def _kernel_cache_kept(keep: bool = True) -> Iterator[None]:
    """Within the block, TensorFlow does not empty its kernel cache (when `keep`).

    Both `keras.backend.clear_session()` and `tf.random.set_seed()` empty it. The
    graph engine uses only stateless random ops with explicit seeds, so no cached
    kernel holds random state that seeding would need to reset.
    """
    if not keep:
        yield
        return
    from tensorflow.python import pywrap_tfe

    clear = pywrap_tfe.TFE_ContextClearCaches
    pywrap_tfe.TFE_ContextClearCaches = lambda handle: None
    try:
        yield
    finally:
        pywrap_tfe.TFE_ContextClearCaches = clear


@functools.cache
def _recording(runner: type) -> type:
    """`runner` (a Keras Tuner class) with TrialRecorder mixed in."""
    return type(f"Recording{runner.__name__}", (TrialRecorder, runner), {})


def make_tuner(
    cell: SearchedCell,
    directory: str,
    hypermodel: Callable[[kt.HyperParameters], Any] | kt.HyperModel | None = None,
    progress: ProgressFn | None = None,
    overwrite: bool = True,
    idle_wait_s: float = 0.0,
    trial_seeds: TrialSeeds | None = None,
) -> kt.Tuner:
    """The cell's tuner, working in `directory`.

    `overwrite=False` resumes the project saved there, if any: finished trials
    are kept and the trial that was running is run again. A model-building
    function is trained by the cell's engine (`GraphFit` or `QuickFit`); a
    `HyperModel` is used as given (default: the task's model). `idle_wait_s`
    makes a distributed worker wait that long after the chief answers "idle"
    (a Hyperband round waiting for results) instead of asking again at once.
    `trial_seeds(cell seed, trial index)` seeds each trial (default
    `hpo.tuners.trial_seed`; a replay's live check gives its table's rule).
    """
    spec, task = cell.spec, cell.task
    if not isinstance(hypermodel, kt.HyperModel):
        trainer = GraphFit if cell.engine == "graph" else QuickFit
        hypermodel = trainer(hypermodel, task=task)
    profile = task.trained(cell.profile)  # its epochs times the task's epochs_scale
    context = TunerContext(oracle_seed(cell.seed), profile, task.objective, task.name)
    runner = spec.runner() if spec.runner is not None else kt.Tuner
    tuner = _recording(runner)(
        oracle=spec.make_oracle(context),
        hypermodel=hypermodel,
        directory=directory,
        project_name=spec.project,
        overwrite=overwrite,
    )
    if hasattr(tuner.oracle, "trials"):  # a local oracle, not a distributed worker's client
        _tidy_reloaded_trials(tuner.oracle)
    tuner._start_recording(progress, cell.seed, task, trial_seeds or trial_seed)
    if idle_wait_s > 0:
        _wait_when_idle(tuner.oracle, idle_wait_s)
    tuner.oracle.verbose = 0  # progress is ours: one line per trial, not a table
    return tuner


def _tidy_reloaded_trials(oracle: kt.Oracle) -> None:
    """Make a reloaded oracle's trials what its saved state says they are.

    Keras Tuner writes a new trial's file before oracle.json; a kill between the
    two leaves a trial the oracle never recorded, which would shift every later
    trial id (and so its seed). Such trials are forgotten, as the oracle did, and
    ended trials are not run again (below).
    Reloading also reads trials in directory order, and the best of tied trials
    and the GP's inputs follow that order: restore the order of creation.
    """
    recorded = set(oracle.start_order)
    for trial_id in [t for t in oracle.trials if t not in recorded]:
        del oracle.trials[trial_id]
        shutil.rmtree(Path(internals.project_dir(oracle)) / f"trial_{trial_id}", ignore_errors=True)
    # Reloading sends every trial oracle.json lists as running back to be run again. But
    # end_trial saves oracle.json before it drops the ended trial from that list: a kill
    # just after that save would have an ended trial run (and counted) twice.
    ended = set(oracle.end_order)
    internals.set_retry_queue(oracle, [t for t in internals.retry_queue(oracle) if t not in ended])
    oracle.trials = dict(sorted(oracle.trials.items()))


@contextlib.contextmanager
def atomic_state_writes() -> Iterator[None]:
    """Within the block, Keras Tuner writes its JSON state atomically (write, then rename).

    Keras Tuner rewrites oracle.json and each trial.json in place; a kill in the
    middle of that write would leave a project that cannot be resumed. Patched
    only for the block: importing hpo changes nothing in Keras Tuner.
    """
    original = internals.json_writer()

    def save_json(path: str, obj: Any) -> str:
        if "://" in str(path):  # a remote filesystem: Keras Tuner's own writer
            return str(original(path, obj))
        text = json.dumps(obj)
        write_text(path, text)
        return text

    internals.set_json_writer(save_json)
    try:
        yield
    finally:
        internals.set_json_writer(original)


@contextlib.contextmanager
def defaults_for_missing_values() -> Iterator[None]:
    """Within the block, an active hyperparameter a trial has no value for gets its default.

    Keras Tuner fills such a value (one the build declared after the trial's values were
    drawn, as a loop over `hp.Int("blocks", ...)` does) with an unseeded random sample
    (`HyperParameters.ensure_active_values`), so the same seed would record, and with a
    Bayesian oracle fit, different values. The default is what the build itself uses for
    a hyperparameter it declares anew. Spaces declared whole up front (hpo's own) never
    reach this.
    """
    original = internals.HyperParameters.ensure_active_values

    def ensure_active_values(self: Any) -> None:
        for hp in self.space:
            if self.is_active(hp):
                if hp.name not in self.values:
                    self.values[hp.name] = hp.default
            else:
                self.values.pop(hp.name, None)

    internals.HyperParameters.ensure_active_values = ensure_active_values
    try:
        yield
    finally:
        internals.HyperParameters.ensure_active_values = original


@contextlib.contextmanager
def keras_tuner_made_safe() -> Iterator[None]:
    """Keras Tuner's state written atomically, and no unseeded values (the two above)."""
    with atomic_state_writes(), defaults_for_missing_values():
        yield


@contextlib.contextmanager
def released(oracle: kt.Oracle) -> Iterator[None]:
    """Let `oracle` and its trials be freed afterwards: Keras Tuner keeps every oracle it
    ever locked in two module-level dicts (its lock and owner thread), so a process that
    runs several cells would otherwise keep every finished cell's trials."""
    try:
        yield
    finally:
        internals.forget_oracle(oracle)


def _wait_when_idle(oracle: kt.Oracle, seconds: float) -> None:
    ask = oracle.create_trial

    def create_trial(tuner_id: str) -> kt.engine.trial.Trial:
        trial = ask(tuner_id)
        if trial.status == kt.engine.trial.TrialStatus.IDLE:
            time.sleep(seconds)
        return trial

    oracle.create_trial = create_trial
