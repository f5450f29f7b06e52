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

from hpo.experiment.profiles import (
    DEFAULT_ENGINE,
    DEFAULT_TASK,
    CellId,
    Profile,
    check_engine,
    check_seed,
    get_profile,
)
from hpo.experiment.results import CellResult
from hpo.experiment.tasks import Task, get_task
from hpo.run.memory import peak_rss_mb, reset_peak
from hpo.run.progress import ProgressFn
from hpo.run.record import SearchStats, SplitSizes, cell_record, is_stop, stopped
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


def check_cell(cell: Cell) -> None:
    """Check a user's task on the cell's split before anything is written (HpoError: one line)."""
    if cell.task.searches_mlp:
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
    if not cell.task.searches_mlp:
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
                if not is_stop(e):
                    raise
                where = f"; its trials are logged in {search.log_path}"
                raise stopped(cell, e, search.history, where) from None
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
    from hpo.run.provenance import versions

    sizes = SplitSizes(len(splits.y_train), len(splits.y_val), len(splits.y_test))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=OPTIMIZER_RELOAD_WARNING)
        return cell_record(
            cell, search.oracle, stats, LiveJudge(search, splits, cell.task), sizes, versions()
        )


@dataclass(frozen=True)
class LiveJudge:
    """Judges a live search's models on the test rows: each trial's best-epoch model loaded
    as `get_best_models` loads the best one (`hpo.run.record.Judge`)."""

    search: Any  # the finished Keras Tuner tuner
    splits: Splits
    task: Task

    def best(self, trial_id: str) -> tuple[float, float]:
        return evaluate_on_test(self.search.get_best_models(1)[0], self.splits, self.task)

    def score(self, trial_id: str) -> float:
        """A front trial's test score from one eager forward pass (`test_score_eagerly`)."""
        model = self.search.load_model(self.search.oracle.get_trial(trial_id))
        return test_score_eagerly(model, self.splits, self.task)


def evaluate_on_test(model: Any, splits: Splits, task: Task) -> tuple[float, float]:
    """A model's test loss (`evaluate`) and score: on hpo's MLP, the head's metric as
    `evaluate` computes it (R² from one forward pass); else the task's scorer."""
    x, y = splits.x_test, splits.y_test
    if not task.searches_mlp:
        evaluated = model.evaluate(x, y, batch_size=task.batch_size, verbose=0, return_dict=True)
        predicted = np.asarray(model.predict(x, batch_size=task.batch_size, verbose=0))
        return float(evaluated["loss"]), task.scorer(y, predicted)
    if not task.regression:
        loss, accuracy = model.evaluate(x, y, batch_size=task.batch_size, verbose=0)
        return float(loss), float(accuracy)
    loss = model.evaluate(x, y, batch_size=task.batch_size, verbose=0)
    predicted = np.asarray(model(x, training=False))  # no predict graph
    return float(loss), task.scorer(y, predicted)


def test_score_eagerly(model: Any, splits: Splits, task: Task) -> float:
    """A model's test score from one eager forward pass: no test graph traced for the model.

    `evaluate` traces a graph per model (about a second each here); a front's other
    models need only their score, computed with the head's own Keras metric (R², or the
    task's scorer for a model of its own).
    """
    predicted = np.asarray(model(splits.x_test, training=False))
    if not task.searches_mlp or task.regression:
        return task.scorer(splits.y_test, predicted)
    import keras

    y = splits.y_test.astype("float32")
    if task.mlp_head.units == 1:  # one output column: labels as one column too
        y = y.reshape(-1, 1)
    return float(np.mean(getattr(keras.metrics, str(task.mlp_head.metric))(y, predicted)))
