"""A finished search's record, live or replayed: `cell_record`, its one builder, and
`describe`, the one line that says what a record holds.

A live search (`hpo.run.cell`, `hpo.parallel.distributed`) and a replayed one
(`hpo.replay.loop`) differ only in how a trial's model is judged on the test rows: a
live search loads it and evaluates it, a replay looks its score up in the table. Each
hands `cell_record` a `Judge` that does its kind; everything else -- the best trial, the
Pareto set, which field holds the score, "every trial failed" -- is decided here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from hpo.analysis.pareto import pareto_set
from hpo.errors import CellStopped
from hpo.experiment.profiles import Profile
from hpo.experiment.records import ParetoPoint, ReplaySource, TrialRecord, searched
from hpo.experiment.results import CellResult
from hpo.experiment.tasks import Task


class Cell(Protocol):
    """What a record reads of its cell (`hpo.run.cell.Cell` is one): resolved values."""

    @property
    def tuner(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def profile(self) -> Profile: ...
    @property
    def task(self) -> Task: ...
    @property
    def engine(self) -> str: ...
    @property
    def label(self) -> str: ...


@dataclass(frozen=True)
class SearchStats:
    """How a finished search went, beside what Keras Tuner's oracle recorded."""

    history: list[TrialRecord]
    wall_time_s: float
    workers: int = 1
    peak_rss_mb: float | None = None
    resumes: int = 0


@dataclass(frozen=True)
class SplitSizes:
    """Rows of the split the search ran on."""

    train: int
    val: int
    test: int


class Judge(Protocol):
    """How a search's models are judged on the test rows: loaded and evaluated (live), or
    looked up (replayed)."""

    def best(self, trial_id: str) -> tuple[float, float]:
        """The best trial's model: its test loss and test score."""
        ...

    def score(self, trial_id: str) -> float:
        """Another trial's best-epoch model (on the Pareto front): its test score."""
        ...


def is_stop(error: RuntimeError) -> bool:
    """Whether Keras Tuner's oracle raised `error` to stop a search on consecutive failures."""
    return "consecutive failures" in str(error)


def stopped(cell: Cell, error: RuntimeError, history: list[TrialRecord], where: str) -> CellStopped:
    """The one-line CellStopped of a search its oracle stopped (`is_stop`), naming the last
    trial's error; `where` says where its trials are (a log, or a replayed table)."""
    last = (history[-1].error or "no reason given") if history else "no trial ran"
    return CellStopped(
        f"{cell.label}: stopped, {error.args[0].splitlines()[0].lower()} (last: {last}){where}"
    )


def check_completed(cell: Cell, history: list[TrialRecord], where: str = "") -> None:
    """CellStopped (one line) unless some trial of `history` completed with a score."""
    if any(h.completed and h.score is not None for h in history):
        return
    errors = [h.error for h in history if h.error]
    first = f"first error: {errors[0]}" if errors else "no trial ran"
    raise CellStopped(f"{cell.label}: every trial failed; {first}{where}")


def cell_record(
    cell: Cell,
    oracle: Any,
    stats: SearchStats,
    judge: Judge,
    sizes: SplitSizes,
    versions: dict[str, str],
    replay: ReplaySource | None = None,
) -> CellResult:
    """The record of `cell`'s finished search: the oracle's best trial judged on the test rows,
    the accuracy-versus-size front, counts and times. CellStopped if every trial failed."""
    history = stats.history
    where = f" (replayed from {replay.table})" if replay is not None else ""
    check_completed(cell, history, where)
    task = cell.task
    best = oracle.get_best_trials(1)[0]
    test_loss, test_score = judge.best(best.trial_id)
    pareto = []
    for i in pareto_set(history, task):
        h = history[i]
        assert h.score is not None and h.params is not None  # pareto_set keeps only these
        score = test_score if h.trial_id == best.trial_id else judge.score(h.trial_id)
        pareto.append(ParetoPoint(h.trial_id, h.score, h.params, score))
    field = task.scorer.field
    completed = sum(h.completed and h.score is not None for h in history)
    return CellResult(
        tuner=cell.tuner,
        seed=cell.seed,
        profile=cell.profile.name,
        task=task.name,
        engine=cell.engine,
        best_val_accuracy=float(best.score) if task.objective == "val_accuracy" else None,
        best_val_loss=float(best.metrics.get_last_value("val_loss")),
        test_accuracy=test_score if field == "test_accuracy" else None,
        test_r2=test_score if field == "test_r2" else None,
        test_value=test_score if field == "test_value" else None,
        task_info=None if task.shipped else task.info(),  # a shipped task: by its name
        pareto=pareto,
        test_loss=float(test_loss),
        wall_time_s=stats.wall_time_s,
        peak_rss_mb=stats.peak_rss_mb,
        workers=stats.workers,
        resumes=stats.resumes,
        trials_completed=completed,
        trials_failed=len(history) - completed,
        epochs_trained=sum(h.epochs for h in history),
        best_hyperparameters=searched(best.hyperparameters.values),
        history=history,
        n_train=sizes.train,
        n_val=sizes.val,
        n_test=sizes.test,
        versions=versions,
        replay=replay,
    )


def describe(result: CellResult, how: str = "ran") -> str:
    """One line saying what a record holds, as `hpo run` and a pytest session print it:
    `LABEL: test acc 0.9649, best val acc 0.9890, test loss 0.0764, 3 trials (+0 failed),
    9 epochs, 8.0 s, peak 815 MiB` (the time simulated, for a replay; then its table)."""
    name = {"test_accuracy": "acc", "test_r2": "R²"}
    field = next(
        f for f in ("test_accuracy", "test_r2", "test_value") if getattr(result, f) is not None
    )
    score = name.get(field) or (result.task_info.score if result.task_info else "score")
    if result.best_val_accuracy is not None:
        best = f"best val acc {result.best_val_accuracy:.4f}"
    else:
        best = f"best val loss {result.best_val_loss:.4f}"
    clock = " simulated" if result.replay is not None else ""
    if result.workers > 1:
        clock += f" on {result.workers} workers"
    peak = f", peak {result.peak_rss_mb:.0f} MiB" if result.peak_rss_mb is not None else ""
    front = f", Pareto set {len(result.pareto)}" if result.pareto is not None else ""
    source = f", replayed from {result.replay.table} (real trainings)" if result.replay else ""
    said = "" if how == "ran" else f" ({how})"
    return (
        f"{result.id.label}: test {score} {result.test_score:.4f}, {best},"
        f" test loss {result.test_loss:.4f}, {result.trials_completed} trials"
        f" (+{result.trials_failed} failed), {result.epochs_trained} epochs,"
        f" {result.wall_time_s:.1f} s{clock}{peak}{front}{source}{said}"
    )
