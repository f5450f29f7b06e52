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
  4 redundant), 5 % of labels flipped -- binary, and far from saturated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hpo.errors import HpoError
from hpo.experiment.profiles import DEFAULT_TASK

BATCH_SIZE = 32  # Keras' default, which the seed report used implicitly


@dataclass(frozen=True)
class Head:
    """The model's output layer, loss, and the metric reported as `accuracy`."""

    units: int
    activation: str
    loss: str
    metric: str | None  # a keras.metrics function name, e.g. "binary_accuracy"; None: regression


@dataclass(frozen=True)
class Task:
    name: str
    load: Callable[[], tuple[np.ndarray, np.ndarray]]  # all rows: features, labels
    head: Head
    objective: str = "val_accuracy"
    stratify: bool = True  # stratify the hold-outs by label (classification)

    @property
    def n_features(self) -> int:
        return _n_features(self)

    @property
    def regression(self) -> bool:
        """A regression task: no accuracy; its test score is R²."""
        return self.head.metric is None

    @property
    def minimise(self) -> bool:
        """Whether the tuners' objective is minimised (a loss) rather than maximised."""
        return self.objective.endswith("loss")

    @property
    def score_name(self) -> str:
        """What the task's test score is called: accuracy, or R² for regression."""
        return "R²" if self.regression else "accuracy"


@functools.cache
def _n_features(task: Task) -> int:
    x, _ = task.load()
    return int(x.shape[1])


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
        Task(name=DEFAULT_TASK, load=_breast_cancer, head=BINARY),
        Task(name="wine", load=_wine, head=_softmax(3)),
        Task(name="digits", load=_digits, head=_softmax(10)),
        Task(
            name="diabetes",
            load=_diabetes,
            head=Head(units=1, activation="linear", loss="mean_squared_error", metric=None),
            objective="val_loss",
            stratify=False,
        ),
        Task(name="synthetic", load=_synthetic, head=BINARY),
    )
}


def parse_tasks(text: str) -> list[str]:
    """A comma-separated list of task names (`all`: every task), checked, in order."""
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
    try:
        return TASKS[name]
    except KeyError:
        raise HpoError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}") from None
