"""The replay loop: a tuner's oracle searches a table's grid; every trial is looked up, not trained.

No `keras_tuner.Tuner` and no model: the loop asks the oracle for trials
(`create_trial`), looks each trial's epochs up in the table, reports to the
oracle what Keras Tuner's `Tuner` reports after a live trial (the metrics of the
trial's best epoch, once, at that epoch's step: `_run_and_update_trial`), and
ends the trial (`end_trial`), until the oracle says STOPPED. The oracle keeps no
files (its `save` and `_save_trial` are no-ops here, and an Optuna-backed oracle's
study lives in memory, not in a journal): a replay is never resumed, it is rerun.

See `hpo.replay` for the seed rule, the clock and the Hyperband convention.
"""

from __future__ import annotations

import functools
import math
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hpo.errors import HpoError
from hpo.experiment.records import (
    CURVE,
    SIZE_METRIC,
    Curve,
    ReplaySource,
    TrialRecord,
    searched,
)
from hpo.experiment.results import CellResult
from hpo.replay.space import SEED_RULE, declare_grid, table_seed
from hpo.run.record import is_stop, stopped
from hpo.tables.plan import FAILED_TO_TRAIN
from hpo.tables.table import Table
from hpo.tuners import TunerContext, TunerSpec, oracle_seed

TUNER_ID = "replay"


@dataclass
class ReplayTiming:
    """Where a replay's time went (real seconds, not the simulated clock)."""

    oracle_s: float = 0.0  # create_trial, update_trial, end_trial: the oracle's own decisions
    harness_s: float = 0.0  # the loop's own work per trial: lookups, entries
    trials: int = 0


@dataclass
class _Row:
    """Where a trial's epochs are in the table: its row and the epochs it trained."""

    config: int
    seed_index: int
    start: int
    stop: int  # exclusive: the epochs it trained are start..stop-1
    failed: bool = False
    best_epoch: int | None = None  # absolute epoch of the row


@dataclass
class _State:
    rows: dict[str, _Row] = field(default_factory=dict)
    seeds: dict[str, int] = field(default_factory=dict)  # trial id -> table seed
    history: list[TrialRecord] = field(default_factory=list)
    clock_s: float = 0.0


def check_table(table: Table, tuner: TunerSpec | str, seed: int, profile: str | None = None) -> Any:
    """The cell a replay of `tuner` on `seed` against `table` is (`hpo.run.cell.Cell`).

    `profile` is the table's unless given: a profile of fewer epochs than the
    table's rows replays their first epochs (a row's first E epochs are what an
    E-epoch training of it trains: benchmarks/live_replay.py checks this live).
    HpoError (one line) if the table cannot be replayed: a partial table, a task
    that is not built in, or a profile of more epochs than the rows hold.
    """
    from hpo.run.cell import Cell

    name = tuner if isinstance(tuner, str) else tuner.name
    if table.partial:
        raise HpoError(f"{table.source}: a partial table (built with --limit) cannot be replayed")
    own = str(table.meta.get("profile", ""))
    profile = own if profile is None else profile
    cell = Cell.of(name, seed, profile, table.task, "graph")
    if not isinstance(tuner, str):
        cell = Cell(tuner, cell.seed, cell.profile, cell.task, cell.engine)
    epochs = cell.trained_profile.epochs
    if epochs > table.epochs or (profile == own and epochs != table.epochs):
        raise HpoError(
            f"{table.source}: its rows hold {table.epochs} epochs, but profile {profile} trains"
            f" {epochs} on {table.task}"
            + (" (a replay can look up a row's first epochs, not more)" if profile != own else "")
        )
    return cell


def replay_cell(
    table: Table,
    tuner: TunerSpec | str,
    seed: int,
    *,
    timing: ReplayTiming | None = None,
    table_name: str | None = None,
    profile: str | None = None,
    workers: int = 1,
) -> CellResult:
    """The record of `tuner` searching `table`'s grid on cell seed `seed`, every epoch looked up.

    The task is the table's, and the profile too unless `profile` names one of
    fewer epochs (the rows' first epochs are looked up). `workers` simulated
    asynchronous workers share the search (`_search`); the record says how many.
    HpoError (one line) if the tuner proposes a configuration outside the grid;
    CellStopped if the oracle stops the search on consecutive failures or every
    trial failed.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise HpoError(f"workers must be an integer of at least 1, got {workers!r}")
    from hpo.run.search import released

    cell = check_table(table, tuner, seed, profile)
    # As a live search: the profile's epochs times the task's epochs_scale (Task.trained).
    context = TunerContext(
        oracle_seed(seed), cell.trained_profile, cell.task.objective, cell.task.name
    )
    oracle = cell.spec.make_oracle(context)
    timing = timing if timing is not None else ReplayTiming()
    with tempfile.TemporaryDirectory(prefix="hpo-replay-") as directory, released(oracle):
        _quiet(oracle, directory, cell.spec.project)
        import keras_tuner as kt

        hp = kt.HyperParameters()
        declare_grid(hp, table.grid)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # samplers' notes on categorical spaces, GP fits
            oracle.update_space(hp)
            state = _search(oracle, table, cell, timing, workers)
        name = table_name or Path(table.source).name
        return _record(oracle, table, cell, state, name, workers)


def _quiet(oracle: Any, directory: str, project: str) -> None:
    """Give the oracle a folder, as a Tuner does, but let it write nothing there."""
    import hpo._keras_tuner as internals  # Keras Tuner: imported when a replay runs

    internals.set_project_dir(oracle, directory, project)
    oracle.verbose = 0
    internals.stop_saving_trials(oracle)
    if hasattr(oracle, "_open_study"):  # hpo's Optuna adapter: its study in memory
        _study_in_memory(oracle)


def _study_in_memory(oracle: Any) -> None:
    from hpo.tuners._optuna_oracle import STUDY, direction

    def open_study() -> Any:
        if oracle._study is None:
            import optuna

            optuna.logging.set_verbosity(optuna.logging.WARNING)
            directions = [direction(oracle.objective)]
            if oracle._sizes_for is not None:
                directions.append(optuna.study.StudyDirection.MINIMIZE)
            oracle._study = optuna.create_study(study_name=STUDY, directions=directions)
        return oracle._study

    oracle._open_study = open_study


@dataclass
class _Running:
    """A trial a simulated worker is training: what it ends with, and when."""

    trial: Any
    worker: str
    row: _Row
    size: int | None
    finish_s: float
    metrics: dict[str, float] | None = None  # None: the trial fails
    best: int | None = None  # the step of its best epoch
    message: str | None = None  # a failed trial's reason


def _search(oracle: Any, table: Table, cell: Any, timing: ReplayTiming, workers: int = 1) -> _State:
    """The search on a simulated clock of `workers` asynchronous workers (Keras Tuner's own
    distributed semantics): each free worker asks the oracle for a trial with its own tuner
    id; a trial ends at the table's recorded time of the epochs it trains after its start;
    until then the oracle sees it running. A worker the oracle answers IDLE waits for the
    next trial to end; one answered STOPPED leaves. Trials end in time order (ties by
    creation), and the log lists them as they end. One worker is the plain loop: ask, look
    up, report, end, ask."""
    import heapq

    import keras_tuner as kt

    status = kt.engine.trial.TrialStatus
    look = _Lookup(table, cell, oracle)
    state = _State()
    ids = [TUNER_ID] if workers == 1 else [f"worker{w}" for w in range(workers)]
    free = list(ids)  # workers to ask, in order
    waiting: list[str] = []  # workers the oracle answered IDLE
    running: list[tuple[float, int, int]] = []  # (finish time, creation index, slot)
    slots: dict[int, _Running] = {}
    now = 0.0
    clock = time.perf_counter
    while True:
        while free:
            worker = free.pop(0)
            t0 = clock()
            trial = oracle.create_trial(worker)
            timing.oracle_s += clock() - t0
            if trial.status == status.STOPPED:
                continue  # this worker leaves
            if trial.status != status.RUNNING:  # IDLE: wait for a running trial to end
                if not running:
                    raise RuntimeError(f"the oracle answered {trial.status} with no trial running")
                waiting.append(worker)
                continue
            t1 = clock()
            started = look.start(trial, worker, state, now)
            index = int(trial.trial_id)
            slots[index] = started
            heapq.heappush(running, (started.finish_s, index, index))
            timing.harness_s += clock() - t1
        if not running:
            return state
        finish_s, _, index = heapq.heappop(running)
        ended = slots.pop(index)
        now = finish_s
        look.end(ended, state, timing, now)
        free.append(ended.worker)
        free.extend(waiting)  # an IDLE answer may change once a trial has ended
        waiting.clear()


class _Lookup:
    """A replay's lookups in its table: what a trial trains, for how long, what it reports."""

    def __init__(self, table: Table, cell: Any, oracle: Any) -> None:
        self.table, self.cell, self.oracle = table, cell, oracle
        arrays = table.arrays
        self.reported: tuple[str, ...] = ("loss", "accuracy", "val_loss", "val_accuracy")
        if table.objective != "val_accuracy":
            self.reported = ("loss", "val_loss")
        names = {*self.reported, *CURVE, table.objective}
        self.curves = {name: arrays[name] for name in names}
        self.epoch_time = arrays["epoch_time_s"]
        self.failed_at = arrays["failed_at_epoch"]
        self.params = arrays["params"]
        self.seed_index = {s: i for i, s in enumerate(table.seeds)}
        self.epochs = cell.trained_profile.epochs  # a full-fidelity trial's: table's or fewer
        self.errors = table.row_errors
        self.own_model = not cell.task.searches_mlp  # reports its model's size (live too)

    def start(self, trial: Any, worker: str, state: _State, now: float) -> _Running:
        """Look the trial up: its row, its epochs, when it ends and what it will report."""
        table, cell = self.table, self.cell
        trial_id = trial.trial_id
        values = trial.hyperparameters.values
        try:
            config = table.grid.index_of(values)
        except HpoError:
            raise HpoError(
                f"tuner {cell.tuner!r} proposed {searched(values)}, which is not in the grid of"
                f" {table.source}: a replay searches the table's grid only"
            ) from None
        parent = values.get("tuner/trial_id")
        if parent is not None and parent in state.seeds:
            seed = state.seeds[parent]  # a Hyperband continuation: the parent's curve
        else:
            seed = table_seed(table.seeds, cell.seed, int(trial_id))
        state.seeds[trial_id] = seed
        si = self.seed_index[seed]
        start = int(values.get("tuner/initial_epoch", 0))
        stop = int(values.get("tuner/epochs", self.epochs))
        if stop > self.epochs:
            raise HpoError(
                f"tuner {cell.tuner!r} asked for {stop} epochs of a trial, but the replay"
                f" looks up {self.epochs} of each row of {table.source}"
            )
        diverged = int(self.failed_at[config, si])
        row = _Row(config, si, start, stop)
        if diverged == FAILED_TO_TRAIN:  # could not be built or trained: no epoch
            row.stop, row.failed = start, True
        elif 0 <= diverged < stop:
            row.stop, row.failed = max(diverged + 1, start + 1), True
        state.rows[trial_id] = row
        duration = float(self.epoch_time[config, si, row.start : row.stop].sum())
        # A task's own model that failed to build has no size, as live.
        failed_build = diverged == FAILED_TO_TRAIN
        size = None if failed_build and self.own_model else int(self.params[config])
        running = _Running(trial, worker, row, size, now + duration)
        if row.failed:
            if failed_build:
                key = config * len(table.seeds) + si
                running.message = self.errors.get(key, "the model failed")
            else:
                running.message = _diverged(self.curves, config, si, row.stop - 1)
            return running
        score = self.curves[table.objective][config, si, start : row.stop]
        running.best = _best(score, self.oracle.objective)
        row.best_epoch = start + running.best
        at = (config, si, row.best_epoch)
        metrics = {name: float(self.curves[name][at]) for name in self.reported}
        metrics = {name: v for name, v in metrics.items() if math.isfinite(v)}
        if self.own_model:
            metrics[SIZE_METRIC] = float(self.params[config])
        running.metrics = metrics
        return running

    def end(self, ended: _Running, state: _State, timing: ReplayTiming, now: float) -> None:
        """Tell the oracle what Keras Tuner's Tuner tells it after a live trial, and log it."""
        import keras_tuner as kt

        status = kt.engine.trial.TrialStatus
        oracle, trial = self.oracle, ended.trial
        t0 = time.perf_counter()
        if ended.metrics is None:
            trial.status = status.FAILED
            trial.message = ended.message
        else:
            _register(oracle, trial.trial_id, ended.metrics)
            trial.status = status.COMPLETED
            oracle.update_trial(trial.trial_id, ended.metrics, step=ended.best)
        state.clock_s = now
        entry = functools.partial(
            _entry, oracle, trial.trial_id, state, self.curves, ended.size, self.table.trainer
        )
        try:
            oracle.end_trial(trial)
        except RuntimeError as e:  # consecutive failures: the oracle stops the search
            if not is_stop(e):
                raise
            state.history.append(entry())
            where = f" (replayed from {self.table.source})"
            raise stopped(self.cell, e, state.history, where) from None
        t1 = time.perf_counter()
        timing.oracle_s += t1 - t0
        state.history.append(entry())
        timing.harness_s += time.perf_counter() - t1
        timing.trials += 1


_DIRECTIONS: dict[tuple[str, str, str], str] = {}


def _register(oracle: Any, trial_id: str, metrics: dict[str, float]) -> None:
    """Register the trial's metrics with the directions `update_trial` would give them.

    For a metric that is not its objective, Keras Tuner infers the direction by
    deserialising a Keras metric of that name (TensorFlow variables: about 1 ms
    a trial). The same inference is done once per name here and reused; the
    oracle then finds the metrics registered, with the same directions.
    """
    tracker = oracle.trials[trial_id].metrics
    for name in metrics:
        if tracker.exists(name):
            continue
        objective = oracle.objective
        key = (str(getattr(objective, "name", "")), str(getattr(objective, "direction", "")), name)
        if key not in _DIRECTIONS:
            import hpo._keras_tuner as internals

            _DIRECTIONS[key] = internals.infer_direction(objective, name)
        tracker.register(name, direction=_DIRECTIONS[key])


def _best(score: np.ndarray, objective: Any) -> int:
    """The epoch (from the trial's first) Keras Tuner calls best: the first strictly better."""
    values = score.tolist()
    best = 0
    for epoch, value in enumerate(values):
        if objective.better_than(value, values[best]):
            best = epoch
    return best


def _diverged(curves: dict[str, np.ndarray], config: int, si: int, epoch: int) -> str:
    """Keras Tuner's message of a trial the engine failed at `epoch` (hpo.engines.keras_fit)."""
    import keras_tuner as kt

    for name in ("loss", "val_loss"):
        value = float(curves[name][config, si, epoch])
        if not math.isfinite(value):
            break
    error = kt.errors.FailedTrialError(
        f"{name} became {value} at epoch {epoch + 1}: the model diverged"
    )
    return "".join(traceback.format_exception_only(error))


def _entry(
    oracle: Any,
    trial_id: str,
    state: _State,
    curves: dict[str, np.ndarray],
    params: int | None,
    engine: str,
) -> TrialRecord:
    """The trial's record (`TrialRecord.of`, as a live search's), its epochs looked up."""
    row = state.rows[trial_id]
    at = (row.config, row.seed_index, slice(row.start, row.stop))
    return TrialRecord.of(
        oracle.trials[trial_id],
        on_accuracy=oracle.objective.name == "val_accuracy",
        epochs=row.stop - row.start,
        elapsed_s=state.clock_s,
        params=params,
        rss_mb=None,
        engine=engine,
        curve=Curve.of({name: curves[name][at].tolist() for name in CURVE}),
    )


@dataclass(frozen=True)
class TableJudge:
    """Judges a replayed search's models: the table's test loss and score at each trial's
    best epoch, the epoch whose weights a live search reloads (`hpo.run.record.Judge`)."""

    table: Table
    rows: dict[str, _Row]

    def _at(self, trial_id: str) -> tuple[int, int, int]:
        row = self.rows[trial_id]
        assert row.best_epoch is not None
        return row.config, row.seed_index, row.best_epoch

    def best(self, trial_id: str) -> tuple[float, float]:
        at = self._at(trial_id)
        arrays = self.table.arrays
        return float(arrays["test_loss"][at]), float(arrays["test_score"][at])

    def score(self, trial_id: str) -> float:
        return float(self.table.arrays["test_score"][self._at(trial_id)])


def _record(
    oracle: Any, table: Table, cell: Any, state: _State, table_name: str, workers: int
) -> CellResult:
    from hpo.run.memory import peak_rss_mb
    from hpo.run.provenance import versions
    from hpo.run.record import SearchStats, SplitSizes, cell_record

    sizes = table.meta.get("split_sizes") or {}
    return cell_record(
        cell,
        oracle,
        # peak memory of this process, which replays (no training)
        SearchStats(state.history, state.clock_s, workers=workers, peak_rss_mb=peak_rss_mb()),
        TableJudge(table, state.rows),
        SplitSizes(*(int(sizes.get(k, 0)) for k in ("train", "val", "test"))),
        versions(),
        replay=ReplaySource(
            table=table_name,
            hash=table.hash,
            seed_rule=SEED_RULE,
            epochs=cell.trained_profile.epochs,  # each row's first epochs, looked up
        ),
    )
