"""Tasks: the data a search runs on, the model's head, and the objective.

A task is one value: where its rows come from, whether the test hold-out is
stratified, the output layer and loss the searched hidden layers feed, and the
validation metric the tuners optimise. Breast Cancer is the seed report's and
the default; the others ship inside scikit-learn or are generated from a fixed
seed, so nothing is downloaded:

- `wine` (178 rows, 13 features, 3 classes) and `digits` (1,797 rows, 64
  features, 10 classes): softmax head, sparse categorical cross-entropy;
- `diabetes` (442 rows, 10 features): regression, linear head, mean squared
  error on targets standardised with the training rows' mean and deviation,
  objective `val_loss` (minimised), R² on the test rows;
- `synthetic`: `make_classification`, 2,000 rows, 20 features (6 informative,
  4 redundant), 5 % of labels flipped -- binary, and far from saturated;
- `mnist1d`: MNIST-1D's 4,000 training and 1,000 test signals of 40 values, 10
  classes (`mnist1d.data.make_dataset`, offline): its test signals are the
  hold-out, the seed splits the rest 80/20; configurations differ widely here.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpo.errors import HpoError
from hpo.experiment.profiles import DEFAULT_TASK, Profile
from hpo.experiment.records import TaskInfo

BATCH_SIZE = 32  # Keras' default, which the seed report used implicitly

Arrays = tuple[np.ndarray, np.ndarray]  # features (rows first), labels or targets


@dataclass(frozen=True)
class Head:
    """The model's output layer, loss, and the metric reported as `accuracy`."""

    units: int
    activation: str
    loss: str
    metric: str | None  # a keras.metrics function name, e.g. "binary_accuracy"; None: regression


@dataclass(frozen=True)
class FixedSplits:
    """A task's own train and test rows, used as given for every seed; its validation rows
    too, or (None) the seed's 80/20 split of the train rows, as for all rows."""

    train: Arrays
    test: Arrays
    validation: Arrays | None = None


Data = Arrays | FixedSplits | Callable[[], "Arrays | FixedSplits"]
Score = str | Callable[[np.ndarray, np.ndarray], float]

SCORE_FIELDS = ("test_accuracy", "test_r2", "test_value")  # where a record keeps a test score


@dataclass(frozen=True)
class Scorer:
    """How a task's best model is judged on the test rows: chosen once per task (`Task.scorer`),
    as scikit-learn's `check_scoring` chooses a scorer, then only called.

    - `kind`: "accuracy", "r2", a Keras metric's name, or "callable" (the task's function);
    - `name`: what the score is called in reports (accuracy, R², the metric's name);
    - `field`: the record's field that holds it (`SCORE_FIELDS`);
    - `counts`: whether it counts correct test rows (accuracy), so tests take rows.
    Higher is better.
    """

    kind: str
    name: str
    field: str
    counts: bool
    function: Callable[[np.ndarray, np.ndarray], float] | None = None

    def __call__(self, y: np.ndarray, predicted: np.ndarray) -> float:
        """The score of `predicted` (the model's outputs) against the labels or targets `y`."""
        if self.function is not None:
            return float(self.function(y, predicted))
        if self.kind == "r2":
            from sklearn.metrics import r2_score

            return float(r2_score(y.reshape(len(y), -1), predicted.reshape(len(y), -1)))
        if self.kind == "accuracy":
            return accuracy(y, predicted)
        import keras

        metric = keras.metrics.get(self.kind)
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


@dataclass(frozen=True, eq=False)
class Task:
    """A dataset, the model searched on it, what the tuners optimise and how the best is judged.

    The built-in tasks search the seed report's MLP on top of a `head`; a task of
    your own gives a `hypermodel` (a `keras_tuner.HyperModel`, or a function
    `build_model(hp)` returning a compiled Keras model) with any search space:

        task = hpo.Task(name="signals", data=load, hypermodel=build_model)

    - `data`: `(x, y)` arrays of all rows, or a function returning them -- hpo then
      holds out the test rows (stratified by label when `stratify`), splits the rest
      80/20 into train and validation by the seed, and fits a StandardScaler on the
      train rows when `scale` -- or a `FixedSplits`, used as given for every seed
      (without validation rows, the seed splits the train rows 80/20).
    - `objective`: the Keras log the tuners optimise (`val_accuracy`, `val_loss`, or any
      `val_` metric the model is compiled with), minimised when `direction` is "min"
      (default: when its name ends in "loss").
    - `score`: how the best model is judged on the test rows, higher is better:
      "accuracy", "r2", a Keras metric's name, or `f(y_true, y_pred) -> float`.
    - `batch_size`, and `epochs_scale` (a trial trains the profile's epochs times it).

    A task named on the command line as `MODULE:ATTR`, or by an installed package's
    entry point in the group `hpo.tasks`, is recorded under that name.
    """

    name: str
    data: Data
    head: Head | None = None  # the seed's MLP's output layer; None: the hypermodel has its own
    objective: str = "val_accuracy"
    stratify: bool = True  # stratify the hold-outs by label (classification)
    hypermodel: Any = None  # kt.HyperModel or build_model(hp); None: the seed's MLP on `head`
    direction: str | None = None  # "max" or "min"; None: "min" for a loss objective
    score: Score | None = None  # None: "r2" for a regression head, else "accuracy"
    scale: bool = True  # StandardScaler on the train rows' features
    batch_size: int = BATCH_SIZE
    epochs_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.head is None and self.hypermodel is None:
            raise HpoError(f"task {self.name!r}: give a hypermodel (or a head for hpo's MLP)")
        if self.direction not in (None, "max", "min"):
            raise HpoError(f"task {self.name!r}: direction must be 'max' or 'min'")
        if not self.objective.startswith("val_"):
            raise HpoError(
                f"task {self.name!r}: objective {self.objective!r} is not a validation log"
                " (val_accuracy, val_loss, val_<metric>)"
            )
        if isinstance(self.batch_size, bool) or not (
            isinstance(self.batch_size, int) and self.batch_size > 0
        ):
            raise HpoError(f"task {self.name!r}: batch_size must be a positive integer")
        if not (isinstance(self.epochs_scale, (int, float)) and self.epochs_scale > 0):
            raise HpoError(f"task {self.name!r}: epochs_scale must be a positive number")
        if self.score is not None and not (callable(self.score) or isinstance(self.score, str)):
            raise HpoError(f"task {self.name!r}: score must be a name or a callable")

    def load(self) -> Arrays | FixedSplits:
        """The task's rows: all of them, or its own fixed splits."""
        data = self.data() if callable(self.data) else self.data
        if isinstance(data, FixedSplits):
            return data
        if not (isinstance(data, tuple) and len(data) == 2):
            raise HpoError(
                f"task {self.name!r}: data must be (features, labels), a FixedSplits, or a"
                f" function returning one; got {type(data).__name__}"
            )
        return data

    @property
    def mlp_head(self) -> Head:
        """The head hpo's MLP ends in; HpoError for a task that brings its own model."""
        if self.head is None:
            raise HpoError(f"task {self.name!r} brings its own model: it has no head for hpo's MLP")
        return self.head

    @property
    def searches_mlp(self) -> bool:
        """Searches hpo's own MLP space (`hpo.experiment.space`) on its `head`: the built-in
        tasks, and a task of the user's own data that brings no hypermodel."""
        return self.hypermodel is None

    @property
    def shipped(self) -> bool:
        """Ships with hpo (`TASKS`): analysis knows it by its name, without its records'
        `task_info`."""
        return TASKS.get(self.name) is self

    @property
    def n_features(self) -> int:
        """Features a row has: a shipped task's as known (analysis counts the MLP's weights
        without generating MNIST-1D, 4 s), another's from its data."""
        if self.shipped:
            return SHIPPED_FEATURES[self.name]
        return _n_features(self)

    @property
    def regression(self) -> bool:
        """A regression task: no accuracy; its test score is R²."""
        if self.head is not None and self.hypermodel is None:
            return self.head.metric is None
        return self.scorer.kind == "r2"

    @property
    def minimise(self) -> bool:
        """Whether the tuners' objective is minimised (a loss) rather than maximised."""
        if self.direction is not None:
            return self.direction == "min"
        return self.objective.endswith("loss")

    @functools.cached_property
    def scorer(self) -> Scorer:
        """How the best model is judged on the test rows, chosen once (`Scorer`)."""
        if callable(self.score):
            name = getattr(self.score, "__name__", "score")
            return Scorer("callable", name, "test_value", counts=False, function=self.score)
        kind = self.score
        if kind is None:
            kind = "r2" if self.head is not None and self.head.metric is None else "accuracy"
        if kind == "accuracy":
            return Scorer(kind, "accuracy", "test_accuracy", counts=True)
        if kind == "r2":
            return Scorer(kind, "R²", "test_r2", counts=False)
        return Scorer(kind, kind, "test_value", counts=False)

    @property
    def score_name(self) -> str:
        """What the task's test score is called: accuracy, R², or the metric's name."""
        return self.scorer.name

    def scaled_epochs(self, epochs: int) -> int:
        """A profile's epochs for this task (`epochs_scale`), at least one."""
        return max(1, round(epochs * self.epochs_scale))

    def trained(self, profile: Profile) -> Profile:
        """`profile` as this task trains it: its epochs times `epochs_scale`."""
        epochs = self.scaled_epochs(profile.epochs)
        return profile if epochs == profile.epochs else dataclasses.replace(profile, epochs=epochs)

    def info(self) -> TaskInfo:
        """What a record keeps of the task, so that analysis never needs its code."""
        return TaskInfo(
            objective=self.objective,
            minimise=self.minimise,
            score=self.score_name,
            counts=self.scorer.counts,
            searches_mlp=self.searches_mlp,
        )


# Each shipped task's features a row (tests/test_tasks.py checks them against the data).
SHIPPED_FEATURES = {
    "breast_cancer": 30,
    "wine": 13,
    "digits": 64,
    "diabetes": 10,
    "synthetic": 20,
    "mnist1d": 40,
}


@functools.cache
def _n_features(task: Task) -> int:
    data = task.load()
    x = data.train[0] if isinstance(data, FixedSplits) else data[0]
    return int(np.asarray(x).shape[1])


def _breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """The 569 x 30 Breast Cancer features and 0/1 labels shipped with scikit-learn."""
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    return x, y


def _wine() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_wine

    return load_wine(return_X_y=True)


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True)


SYNTHETIC_SEED = 0  # the data is fixed; the cell's seed only splits it


def _synthetic() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification

    return make_classification(
        n_samples=2000,
        n_features=20,
        n_informative=6,
        n_redundant=4,
        flip_y=0.05,
        class_sep=0.8,
        random_state=SYNTHETIC_SEED,
    )


@functools.cache
def _mnist1d() -> FixedSplits:
    """MNIST-1D (Greydanus, 2020): the `mnist1d` package's offline `make_dataset` with its
    default arguments -- 4,000 training and 1,000 test signals of 40 values, 10 classes,
    generated from its fixed seed, nothing downloaded. Its test signals are the hold-out."""
    from mnist1d.data import get_dataset_args, make_dataset

    state = np.random.get_state()  # make_dataset seeds NumPy's global generator
    try:
        d = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(state)
    return FixedSplits(train=(d["x"], d["y"]), test=(d["x_test"], d["y_test"]))


BINARY = Head(units=1, activation="sigmoid", loss="binary_crossentropy", metric="binary_accuracy")


def _softmax(classes: int) -> Head:
    return Head(
        units=classes,
        activation="softmax",
        loss="sparse_categorical_crossentropy",
        metric="sparse_categorical_accuracy",
    )


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task(name=DEFAULT_TASK, data=_breast_cancer, head=BINARY),
        Task(name="wine", data=_wine, head=_softmax(3)),
        Task(name="digits", data=_digits, head=_softmax(10)),
        Task(
            name="diabetes",
            data=_diabetes,
            head=Head(units=1, activation="linear", loss="mean_squared_error", metric=None),
            objective="val_loss",
            stratify=False,
        ),
        Task(name="synthetic", data=_synthetic, head=BINARY),
        Task(name="mnist1d", data=_mnist1d, head=_softmax(10)),
    )
}


ENTRY_POINT_GROUP = "hpo.tasks"


def parse_tasks(text: str) -> list[str]:
    """A comma-separated list of task names (`all`: every built-in task), checked, in order."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise HpoError("no task named; choose from " + ", ".join(TASKS))
    out: list[str] = []
    for name in names:
        for n in TASKS if name == "all" else [get_task(name).name]:
            if n not in out:
                out.append(n)
    return out


def get_task(name: str) -> Task:
    """A built-in task, an installed one (entry point group `hpo.tasks`), or `MODULE:ATTR`
    (a Task, or a function returning one), named by `name` in its records."""
    if name in TASKS:
        return TASKS[name]
    return _user_task(name)


@functools.cache
def _user_task(name: str) -> Task:
    from hpo.experiment.registry import entry_point, load, module_attr

    loaded = entry_point(ENTRY_POINT_GROUP, name)
    if loaded is None:
        if ":" not in name:
            raise HpoError(
                f"unknown task {name!r}; choose one of {', '.join(TASKS)}, or MODULE:ATTR"
            )
        loaded = module_attr(name, "task")
    if not isinstance(loaded, Task) and callable(loaded) and not isinstance(loaded, type):
        loaded = load(loaded, f"task {name!r}")  # a function returning the task
    if not isinstance(loaded, Task):
        raise HpoError(f"task {name!r} is {type(loaded).__name__}, not an hpo.Task")
    return dataclasses.replace(loaded, name=name)
