"""A cell, resolved, and running it: search with its tuner on its seed's split, judge the best.

`Cell.of` turns names (a tuner, a task, a profile) into values once, at the edge
(the CLI, the plugin, a worker process); everything downstream reads the cell's
`spec`, `task` and `profile` instead of looking names up again. Importing this
module is light: TensorFlow is imported when a cell runs.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo.analysis.pareto import pareto_set
from hpo.errors import CellStopped
from hpo.experiment.profiles import (
    DEFAULT_ENGINE,
    DEFAULT_TASK,
    CellId,
    Profile,
    check_engine,
    check_seed,
    get_profile,
)
from hpo.experiment.results import CellResult, trial_score
from hpo.experiment.tasks import BATCH_SIZE, TASKS, Task, get_task
from hpo.run.memory import peak_rss_mb, reset_peak
from hpo.run.progress import ProgressFn
from hpo.run.provenance import versions
from hpo.run.runtime import frozen_gc, seed_everything
from hpo.tuners import Budget, TrialSeeds, TunerSpec, get_tuner

if TYPE_CHECKING:
    import keras_tuner as kt

    from hpo.experiment.data import Splits

# Hyperband's later rounds, and get_best_models(), load saved weights into a model whose
# optimizer is not built yet; Keras warns and the optimizer starts afresh. That is Keras
# Tuner's design, not a fault of the run.
OPTIMIZER_RELOAD_WARNING = "Skipping variable loading for optimizer"


@dataclass(frozen=True)
class Cell:
    """One benchmark cell: a tuner searching one task's split of one seed, on one budget.

    Holds resolved values; build it with `Cell.of(tuner, seed, profile, task, engine)`
    from names. It travels to other processes by its names (`__reduce__`) and is
    resolved there once.
    """

    spec: TunerSpec
    seed: int
    profile: Profile
    task: Task
    engine: str = DEFAULT_ENGINE

    @classmethod
    def of(
        cls,
        tuner: str,
        seed: object,
        profile: str,
        task: str = DEFAULT_TASK,
        engine: str = DEFAULT_ENGINE,
    ) -> Cell:
        """The cell these names select; HpoError naming the first unknown or bad one."""
        return cls(
            get_tuner(tuner),
            check_seed(seed),
            get_profile(profile),
            get_task(task),
            check_engine(engine),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (Cell.of, (self.tuner, self.seed, self.profile.name, self.task.name, self.engine))

    @property
    def tuner(self) -> str:
        return self.spec.name

    @property
    def id(self) -> CellId:
        """Which cell this is, by names: what its record and files are named by."""
        return CellId(self.tuner, self.seed, self.profile.name, self.task.name, self.engine)

    @property
    def name(self) -> str:
        return self.id.name

    @property
    def label(self) -> str:
        return self.id.label

    @property
    def trained_profile(self) -> Profile:
        """The profile as the task trains it: its epochs times the task's `epochs_scale`."""
        return self.task.trained(self.profile)

    @property
    def budget(self) -> Budget:
        """Trials and epochs its search trains if no trial fails."""
        return self.spec.budget(self.trained_profile)


@dataclass(frozen=True)
class SearchStats:
    """How a finished search went, beside what Keras Tuner's oracle recorded."""

    history: list[dict[str, Any]]
    wall_time_s: float
    workers: int = 1
    peak_rss_mb: float | None = None
    resumes: int = 0


def check_cell(cell: Cell) -> None:
    """Check a user's task on the cell's split before anything is written (HpoError: one line)."""
    if cell.task.builtin:
        return
    from hpo.experiment.data import load_splits
    from hpo.run.preflight import preflight
    from hpo.run.runtime import import_tensorflow_quietly

    import_tensorflow_quietly()
    preflight(cell.task, load_splits(cell.seed, cell.task))


def run_cell(
    cell: Cell,
    workdir: str | os.PathLike[str] | None = None,
    progress: ProgressFn | None = None,
    hypermodel: Callable[[kt.HyperParameters], Any] | kt.HyperModel | None = None,
    resume: bool = False,
    trial_seeds: TrialSeeds | None = None,
    split_seed: int | None = None,
) -> CellResult:
    """Search with the cell's tuner on its seed's split and judge its best model on the test rows.

    `workdir` holds Keras Tuner's project (trials, checkpoints) and hpo's trial
    log; a fresh temporary directory is used and removed when it is None. With
    `resume`, a project already in `workdir` is continued, not replaced. The
    same cell gives the same record, apart from times, resumed or not.
    `split_seed` gives another seed's train/validation split (a table's, for a
    live search that its replay must equal: `hpo.replay.live`).
    """
    from sklearn.exceptions import ConvergenceWarning

    from hpo.experiment.data import load_splits
    from hpo.run.preflight import preflight
    from hpo.run.search import keras_tuner_made_safe, make_tuner, released

    if workdir is None:
        with tempfile.TemporaryDirectory(prefix=f"hpo-{cell.name}-") as tmp:
            return run_cell(
                cell, tmp, progress, hypermodel, trial_seeds=trial_seeds, split_seed=split_seed
            )

    splits = load_splits(cell.seed if split_seed is None else split_seed, cell.task)
    if not cell.task.builtin:
        preflight(cell.task, splits)
    seed_everything(cell.seed)
    with keras_tuner_made_safe():
        search = make_tuner(
            cell,
            str(workdir),
            hypermodel=hypermodel,
            progress=progress,
            overwrite=not resume,
            trial_seeds=trial_seeds,
        )
        reset_peak()
        with frozen_gc(), warnings.catch_warnings(), released(search.oracle):
            warnings.filterwarnings("ignore", message=OPTIMIZER_RELOAD_WARNING)
            # Keras Tuner's GP fits its kernel's length scales within fixed bounds; on
            # saturated scores (many trials at 100 % validation accuracy) a scale reaches
            # a bound and scikit-learn warns at every fit. The fit is still used, as is.
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            fit_args, fit_kwargs = search_kwargs(splits, cell)
            try:
                search.search(*fit_args, **fit_kwargs)
            except RuntimeError as e:
                if "consecutive failures" not in str(e):
                    raise
                last = search.history[-1].get("error", "no reason given") if search.history else ""
                raise CellStopped(
                    f"{cell.label}: stopped, {e.args[0].splitlines()[0].lower()}"
                    f" (last: {last}); its trials are logged in {search.log_path}"
                ) from None
            stats = SearchStats(
                history=search.history,
                wall_time_s=search.search_time_s(),
                peak_rss_mb=peak_rss_mb(),
                resumes=search.resumes,
            )
            return evaluate_search(search, cell, splits, stats)


def search_kwargs(splits: Splits, cell: Cell) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """What `search()` is given: training rows, validation rows, epochs, batch size."""
    return (splits.x_train, splits.y_train), {
        "validation_data": (splits.x_val, splits.y_val),
        "epochs": cell.trained_profile.epochs,  # multi-fidelity tuners set their own
        "batch_size": cell.task.batch_size,
        "verbose": 0,
    }


def evaluate_search(search: kt.Tuner, cell: Cell, splits: Splits, stats: SearchStats) -> CellResult:
    """The record of a finished search: its best trial, and that model judged on the test rows."""
    history = stats.history
    completed = [h for h in history if trial_score(h) is not None]
    if not completed:
        raise RuntimeError(f"{cell.label}: every trial failed; {_first_error(search)}")
    task = cell.task
    best_trial = search.oracle.get_best_trials(1)[0]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=OPTIMIZER_RELOAD_WARNING)
        best_model = search.get_best_models(1)[0]
        test_loss, test_score = _test(best_model, splits, task)
        score_field = _score_field(task)
        pareto = [
            {
                "trial_id": entry["trial_id"],
                "score": trial_score(entry),
                "params": entry["params"],
                "test_score": test_score  # the best model, already judged
                if entry["trial_id"] == best_trial.trial_id
                else test_score_eagerly(_load(search, entry["trial_id"]), splits, task),
            }
            for entry in (history[i] for i in pareto_set(history, task))
        ]
    return CellResult(
        tuner=cell.tuner,
        seed=cell.seed,
        profile=cell.profile.name,
        task=cell.task.name,
        engine=cell.engine,
        best_val_accuracy=_best_val_accuracy(best_trial, task),
        best_val_loss=float(best_trial.metrics.get_last_value("val_loss")),
        test_accuracy=test_score if score_field == "test_accuracy" else None,
        test_r2=test_score if score_field == "test_r2" else None,
        test_value=test_score if score_field == "test_value" else None,
        task_info=None if task.name in TASKS else task.info(),  # built-ins: by their name
        pareto=pareto,
        test_loss=float(test_loss),
        wall_time_s=stats.wall_time_s,
        peak_rss_mb=stats.peak_rss_mb,
        workers=stats.workers,
        resumes=stats.resumes,
        trials_completed=len(completed),
        trials_failed=len(history) - len(completed),
        epochs_trained=sum(h["epochs"] for h in history),
        best_hyperparameters={
            k: v for k, v in best_trial.hyperparameters.values.items() if not k.startswith("tuner/")
        },
        history=history,
        n_train=len(splits.y_train),
        n_val=len(splits.y_val),
        n_test=len(splits.y_test),
        versions=versions(),
    )


def _score_field(task: Task) -> str:
    """Which field of the record holds the task's test score."""
    if task.builtin:
        return "test_r2" if task.regression else "test_accuracy"
    return {"accuracy": "test_accuracy", "r2": "test_r2"}.get(task.score_kind, "test_value")


def _best_val_accuracy(best_trial: Any, task: Task) -> float | None:
    """The best trial's validation accuracy: its score, when the objective is accuracy."""
    if task.builtin:
        return None if task.regression else float(best_trial.score)
    if task.objective != "val_accuracy":
        return None
    return float(best_trial.score)


def _test(model: Any, splits: Splits, task: Task) -> tuple[float, float]:
    """A model's loss and score on the test rows: accuracy, or R² for regression."""
    if not task.builtin:
        return _test_own(model, splits, task)
    if not task.regression:
        loss, accuracy = model.evaluate(
            splits.x_test, splits.y_test, batch_size=BATCH_SIZE, verbose=0
        )
        return float(loss), float(accuracy)
    from sklearn.metrics import r2_score

    loss = model.evaluate(splits.x_test, splits.y_test, batch_size=BATCH_SIZE, verbose=0)
    predicted = np.asarray(model(splits.x_test, training=False)).reshape(-1)  # no predict graph
    return float(loss), float(r2_score(splits.y_test, predicted))


def _test_own(model: Any, splits: Splits, task: Task) -> tuple[float, float]:
    """A user's task: the compiled loss on the test rows, and the task's own score."""
    evaluated = model.evaluate(
        splits.x_test, splits.y_test, batch_size=task.batch_size, verbose=0, return_dict=True
    )
    predicted = np.asarray(model.predict(splits.x_test, batch_size=task.batch_size, verbose=0))
    return float(evaluated["loss"]), own_score(task, splits.y_test, predicted)


def own_score(task: Task, y: np.ndarray, predicted: np.ndarray) -> float:
    """The task's test score of predictions: accuracy, R², a Keras metric, or its callable."""
    kind = task.score_kind
    if kind == "callable":
        assert callable(task.score)
        return float(task.score(y, predicted))
    if kind == "r2":
        from sklearn.metrics import r2_score

        return float(r2_score(y.reshape(len(y), -1), predicted.reshape(len(y), -1)))
    if kind == "accuracy":
        return accuracy(y, predicted)
    import keras

    metric = keras.metrics.get(kind)
    if isinstance(metric, type):
        metric = metric()
    if isinstance(metric, keras.metrics.Metric):
        metric.update_state(y, predicted)
        return float(metric.result())
    return float(np.mean(np.asarray(metric(y, predicted))))


def accuracy(y: np.ndarray, predicted: np.ndarray) -> float:
    """Share of rows classified right: one output column is a probability of class 1
    (threshold 0.5); several are classes (argmax), against integer or one-hot labels."""
    p = predicted.reshape(len(predicted), -1)
    guess = (p[:, 0] > 0.5).astype(np.int64) if p.shape[1] == 1 else np.argmax(p, axis=1)
    labels = np.asarray(y)
    if labels.ndim > 1 and labels.shape[-1] == p.shape[1] and p.shape[1] > 1:
        labels = np.argmax(labels, axis=-1)
    return float(np.mean(guess == labels.reshape(-1)))


def test_score_eagerly(model: Any, splits: Splits, task: Task) -> float:
    """`_test`'s score from one eager forward pass: no test graph traced for the model.

    `evaluate` traces a graph per model (about a second each here); a front's other
    models need only their score, computed with the head's own Keras metric (or R²).
    """
    predicted = np.asarray(model(splits.x_test, training=False))
    if not task.builtin:
        return own_score(task, splits.y_test, predicted)
    if task.regression:
        from sklearn.metrics import r2_score

        return float(r2_score(splits.y_test, predicted.reshape(-1)))
    import keras

    y = splits.y_test.astype("float32")
    if task.mlp_head.units == 1:  # one output column: labels as one column too
        y = y.reshape(-1, 1)
    return float(np.mean(getattr(keras.metrics, str(task.mlp_head.metric))(y, predicted)))


def _load(search: kt.Tuner, trial_id: str) -> Any:
    """A trial's best-epoch model, as get_best_models loads the best trial's."""
    return search.load_model(search.oracle.get_trial(trial_id))


def _first_error(search: kt.Tuner) -> str:
    messages = [t.message for t in search.oracle.trials.values() if t.message]
    return f"first error: {messages[0].strip().splitlines()[-1]}" if messages else "no trial ran"
