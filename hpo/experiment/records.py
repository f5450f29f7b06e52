"""The typed parts of a cell's record: a trial, its curve, a Pareto point, a fault, the task
and the table a replay came from. Each is frozen, read by attribute, and turned into the
record's JSON (and back) by its own `to_dict` / `from_dict` -- the only place that knows
the keys, as Optuna's `FrozenTrial` is the one shape of a trial.

A `TrialRecord` is built once per finished trial, live or replayed, by `TrialRecord.of`
from Keras Tuner's trial (duck-typed: this module imports no Keras Tuner). Its JSON is the
trial log entry hpo has always written, key for key.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hpo.errors import HpoError

CURVE = ("loss", "val_loss", "val_accuracy")  # per epoch of each trial, in this order
# A trial's parameter count, logged every epoch for a task's own models: the oracle never
# sees the model, and a size objective (nsga2, motpe) reads it from the trial's metrics.
SIZE_METRIC = "params"


class TrialStatus(enum.StrEnum):
    """How a trial ended, as Keras Tuner names it (`keras_tuner.engine.trial.TrialStatus`)."""

    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    INVALID = "INVALID"
    STOPPED = "STOPPED"
    RUNNING = "RUNNING"
    IDLE = "IDLE"


def searched(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a trial searched: its hyperparameters without Keras Tuner's own `tuner/`
    bookkeeping (Hyperband's epochs, bracket and round; a phased tuner's phase)."""
    return {k: v for k, v in values.items() if not str(k).startswith("tuner/")}


def _finite(value: Any) -> float | None:
    """A metric as a record keeps it: a float, or None where it is missing or not finite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _count(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Curve:
    """A trial's per-epoch metrics (None where a value was not finite)."""

    loss: tuple[float | None, ...] = ()
    val_loss: tuple[float | None, ...] = ()
    val_accuracy: tuple[float | None, ...] = ()

    @classmethod
    def of(cls, metrics: Mapping[str, Iterable[Any]]) -> Curve:
        """From lists of raw values per metric name (`CURVE`); absent names are empty."""
        return cls(*(tuple(_finite(v) for v in metrics.get(name, ())) for name in CURVE))

    def to_dict(self) -> dict[str, list[float | None]]:
        return {name: list(getattr(self, name)) for name in CURVE}

    @classmethod
    def from_dict(cls, data: Any) -> Curve:
        if not isinstance(data, dict):
            raise HpoError(f"a trial's curve must be an object, got {_short(data)}")
        return cls(*(tuple(data.get(name) or ()) for name in CURVE))


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial of a search, as its log entry and the cell's record keep it.

    `score` is the oracle's score of the trial (its objective at the best epoch), None
    if it failed; the JSON calls it `val_accuracy` when the objective is validation
    accuracy (`on_accuracy`) and `score` otherwise. `params` is the built model's
    trainable parameters; `bracket`/`round` a Hyperband trial's, `phase` a phased tuner's.
    """

    trial_id: str
    status: TrialStatus
    epochs: int
    elapsed_s: float
    score: float | None = None
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    params: int | None = None
    rss_mb: float | None = None
    engine: str | None = None
    curve: Curve | None = None
    error: str | None = None
    bracket: int | None = None
    round: int | None = None
    phase: str | None = None
    on_accuracy: bool = True

    @classmethod
    def of(
        cls,
        trial: Any,
        *,
        on_accuracy: bool,
        epochs: int,
        elapsed_s: float,
        params: int | None,
        rss_mb: float | None,
        engine: str | None,
        curve: Curve | None,
    ) -> TrialRecord:
        """The record of Keras Tuner's finished `trial` (its status, values, score, message),
        live or replayed: the one constructor both paths use."""
        status = TrialStatus(str(trial.status))
        completed = status == TrialStatus.COMPLETED
        values = dict(trial.hyperparameters.values)
        message = getattr(trial, "message", None)
        return cls(
            trial_id=str(trial.trial_id),
            status=status,
            epochs=int(epochs),
            elapsed_s=float(elapsed_s),
            score=float(trial.score) if completed and trial.score is not None else None,
            hyperparameters=searched(values),
            params=params,
            rss_mb=rss_mb,
            engine=engine,
            curve=curve,
            error=message.strip().splitlines()[-1] if not completed and message else None,
            bracket=values.get("tuner/bracket"),
            round=values.get("tuner/round"),
            phase=values.get("tuner/phase"),
            on_accuracy=on_accuracy,
        )

    @property
    def completed(self) -> bool:
        return self.status == TrialStatus.COMPLETED

    @property
    def val_accuracy(self) -> float | None:
        """The trial's validation accuracy when that is the objective, else None."""
        return self.score if self.on_accuracy else None

    def to_dict(self) -> dict[str, Any]:
        """The log entry, key for key as hpo writes it."""
        out: dict[str, Any] = {
            "trial_id": self.trial_id,
            "status": str(self.status),
            "hyperparameters": dict(self.hyperparameters),
            "val_accuracy": self.val_accuracy,
            "params": self.params,
            "epochs": self.epochs,
            "elapsed_s": self.elapsed_s,
            "rss_mb": self.rss_mb,
        }
        if not self.on_accuracy:
            out["score"] = self.score
        if self.engine is not None:
            out["engine"] = self.engine
        if self.curve is not None:
            out["curve"] = self.curve.to_dict()
        if self.error is not None:
            out["error"] = self.error
        if self.bracket is not None:
            out["bracket"] = self.bracket
            out["round"] = self.round
        if self.phase is not None:
            out["phase"] = self.phase
        return out

    @classmethod
    def from_dict(cls, data: Any) -> TrialRecord:
        """From a log entry; HpoError (one line) naming what is wrong with it."""
        if not isinstance(data, dict):
            raise HpoError(f"a trial must be an object, got {_short(data)}")
        on_accuracy = "score" not in data
        score: Any = data.get("val_accuracy") if on_accuracy else data["score"]
        if score is not None and not _number(score):
            raise HpoError(f"trial {data.get('trial_id')}: score must be a number, got {score!r}")
        if on_accuracy and score is not None and not 0 <= score <= 1:
            raise HpoError(f"trial {data.get('trial_id')}: val_accuracy {score!r} not in [0, 1]")
        if not _count(data.get("epochs")):
            raise HpoError(f"trial {data.get('trial_id')}: epochs must be an integer >= 0")
        elapsed: Any = data.get("elapsed_s")
        if not (_number(elapsed) and elapsed >= 0):
            raise HpoError(f"trial {data.get('trial_id')}: elapsed_s must be a number >= 0")
        try:
            status = TrialStatus(data.get("status", TrialStatus.COMPLETED))
        except ValueError:
            bad = data["status"]
            raise HpoError(f"trial {data.get('trial_id')}: unknown status {bad!r}") from None
        curve = data.get("curve")
        return cls(
            trial_id=str(data.get("trial_id", "")),
            status=status,
            epochs=data["epochs"],
            elapsed_s=float(elapsed),
            score=None if score is None else float(score),
            hyperparameters=dict(data.get("hyperparameters") or {}),
            params=data.get("params"),
            rss_mb=data.get("rss_mb"),
            engine=data.get("engine"),
            curve=None if curve is None else Curve.from_dict(curve),
            error=data.get("error"),
            bracket=data.get("bracket"),
            round=data.get("round"),
            phase=data.get("phase"),
            on_accuracy=on_accuracy,
        )

    def without_times(self) -> dict[str, Any]:
        """The entry minus time and memory: what determinism promises."""
        out = self.to_dict()
        del out["elapsed_s"], out["rss_mb"]
        return out


@dataclass(frozen=True)
class ParetoPoint:
    """A trial on the cell's accuracy-versus-size front: its validation objective, its
    model's parameters and that model's test score (accuracy, R² or the task's own)."""

    trial_id: str
    score: float
    params: int
    test_score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial_id": self.trial_id,
            "score": self.score,
            "params": self.params,
            "test_score": self.test_score,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ParetoPoint:
        if not (
            isinstance(data, dict)
            and isinstance(data.get("trial_id"), str)
            and _number(data.get("score"))
            and _count(data.get("params"))
            and _number(data.get("test_score"))
        ):
            raise HpoError(
                "field pareto must be null or a list of trials with trial_id, score, params"
                f" and test_score, got {_short(data)}"
            )
        return cls(data["trial_id"], data["score"], data["params"], data["test_score"])


@dataclass(frozen=True)
class Fault:
    """A distributed worker that died during the search (hpo.parallel.distributed): its
    tuner id, exit code, seconds into the search, and what was done ("restarted", or
    "search stopped")."""

    worker: str
    exit_code: int
    after_s: float
    action: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "worker": self.worker,
            "exit_code": self.exit_code,
            "after_s": self.after_s,
            "action": self.action,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Fault:
        keys = ("worker", "exit_code", "after_s", "action")
        if not (isinstance(data, dict) and all(k in data for k in keys)):
            raise HpoError(
                f"field faults must list workers with {', '.join(keys)}, got {_short(data)}"
            )
        return cls(str(data["worker"]), int(data["exit_code"]), data["after_s"], data["action"])


@dataclass(frozen=True)
class TaskInfo:
    """What analysis needs to know of a task of the user's own, without its code
    (`hpo.experiment.tasks.Task.info`)."""

    objective: str
    minimise: bool
    score: str  # the test score's name: accuracy, R², a metric's name
    counts: bool  # whether the test score counts correct test rows (accuracy)
    searches_mlp: bool  # whether it searched hpo's own MLP space (JSON: "builtin")

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "minimise": self.minimise,
            "score": self.score,
            "counts": self.counts,
            "builtin": self.searches_mlp,
        }

    @classmethod
    def from_dict(cls, data: Any, task: str = "?") -> TaskInfo:
        if not isinstance(data, dict):
            raise HpoError(f"field task_info must be null or an object, got {_short(data)}")
        missing = [k for k in ("minimise", "score", "counts") if k not in data]
        if missing:
            raise HpoError(f"records of task {task}: task_info lacks {', '.join(missing)}")
        return cls(
            objective=str(data.get("objective", "val_accuracy")),
            minimise=bool(data["minimise"]),
            score=str(data["score"]),
            counts=bool(data["counts"]),
            searches_mlp=bool(data.get("builtin", False)),
        )


@dataclass(frozen=True)
class ReplaySource:
    """Where a replayed cell's trainings were looked up (hpo.replay): the table's file name
    and hash, the seed rule, and the epochs of each row looked up (its first)."""

    table: str
    hash: str
    seed_rule: str
    epochs: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "hash": self.hash,
            "seed_rule": self.seed_rule,
            "epochs": self.epochs,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ReplaySource:
        if not isinstance(data, dict):
            raise HpoError(f"field replay must be null or an object, got {_short(data)}")
        return cls(
            table=str(data.get("table")),
            hash=str(data.get("hash", "")),
            seed_rule=str(data.get("seed_rule", "")),
            epochs=int(data.get("epochs", 0)),
        )
