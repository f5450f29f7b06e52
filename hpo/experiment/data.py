"""A task's rows, split per seed into train / validation / test and scaled.

The test rows are held out first and never reach the tuner, so a tuner's best
model can be judged on data its selection did not see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from hpo.errors import HpoError
from hpo.experiment.profiles import DEFAULT_TASK, MAX_SEED, check_seed
from hpo.experiment.tasks import FixedSplits, Task, get_task

__all__ = ["MAX_SEED", "Splits", "check_seed", "load_splits"]

TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.2  # of what remains after the test rows: the seed report's 80/20


@dataclass(frozen=True)
class Splits:
    """Scaled float32 features and int labels of the three disjoint parts."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    scaler: StandardScaler

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


def load_splits(seed: int, task: Task | str = DEFAULT_TASK) -> Splits:
    """Test hold-out (stratified for classification), then train/validation split;
    scaler fitted on train rows only. The same seed gives byte-identical arrays.

    A regression task's targets are standardised too, with the training rows'
    mean and deviation: the loss is then on one scale whatever the task, and R²
    (computed on the standardised targets) is the same as on the original ones.
    A task's own `FixedSplits` are used as given (scaled when the task says so).
    """
    seed = check_seed(seed)
    task = get_task(task) if isinstance(task, str) else task
    data = task.load()
    if isinstance(data, FixedSplits) and data.validation is not None:
        x_train, y_train = _checked(task, data.train, "train")
        x_val, y_val = _checked(task, data.validation, "validation")
        x_test, y_test = _checked(task, data.test, "test")
    else:
        stratify = task.stratify and not task.regression
        try:
            if isinstance(data, FixedSplits):  # its own test rows; the seed splits the rest
                x_rest, y_rest = _checked(task, data.train, "train")
                x_test, y_test = _checked(task, data.test, "test")
            else:
                x, y = _checked(task, data, "data")
                x_rest, x_test, y_rest, y_test = train_test_split(
                    x,
                    y,
                    test_size=TEST_FRACTION,
                    stratify=y if stratify else None,
                    random_state=seed,
                )
            x_train, x_val, y_train, y_val = train_test_split(
                x_rest,
                y_rest,
                test_size=VALIDATION_FRACTION,
                stratify=y_rest if stratify else None,
                random_state=seed,
            )
        except ValueError as e:  # too few rows, or a class too rare to stratify
            rows = len(y_rest) if isinstance(data, FixedSplits) else len(y)
            raise HpoError(f"task {task.name!r}: cannot split its {rows} rows: {e}") from None
    scaler = StandardScaler(with_mean=task.scale, with_std=task.scale).fit(_flat(x_train))

    def scale(part: np.ndarray) -> np.ndarray:
        if not task.scale:
            return np.asarray(part, dtype=np.float32)
        return scaler.transform(_flat(part)).reshape(part.shape).astype(np.float32)

    if task.regression and task.searches_mlp:
        mean, std = float(np.mean(y_train)), float(np.std(y_train))

        def target(part: np.ndarray) -> np.ndarray:
            return ((part - mean) / std).astype(np.float32)

    elif task.regression or task.searches_mlp:

        def target(part: np.ndarray) -> np.ndarray:
            return part.astype(np.float32 if task.regression else np.int64)

    else:  # a task of the user's: labels as given (integers stay integers)

        def target(part: np.ndarray) -> np.ndarray:
            if np.issubdtype(part.dtype, np.integer) or np.issubdtype(part.dtype, np.bool_):
                return part.astype(np.int64)
            return part.astype(np.float32)

    return Splits(
        x_train=scale(x_train),
        y_train=target(y_train),
        x_val=scale(x_val),
        y_val=target(y_val),
        x_test=scale(x_test),
        y_test=target(y_test),
        scaler=scaler,
    )


def _flat(x: np.ndarray) -> np.ndarray:
    """Rows as vectors, for the scaler: a feature per value (e.g. per time step of a signal)."""
    return np.asarray(x).reshape(len(x), -1)


def _checked(task: Task, arrays: object, part: str) -> tuple[np.ndarray, np.ndarray]:
    """`arrays` as (features, labels), or HpoError naming what is wrong with them."""
    where = f"task {task.name!r}: {part}"
    if not (isinstance(arrays, tuple) and len(arrays) == 2):
        raise HpoError(f"{where} must be a (features, labels) pair")
    try:
        x, y = np.asarray(arrays[0]), np.asarray(arrays[1])
    except (TypeError, ValueError) as e:
        raise HpoError(f"{where}: not arrays: {e}") from None
    if x.ndim < 2:
        raise HpoError(f"{where}: features have shape {x.shape}; expected rows x features")
    if len(x) != len(y):
        raise HpoError(f"{where}: {len(x)} rows of features but {len(y)} labels")
    if len(x) == 0:
        raise HpoError(f"{where}: no rows")
    for name, a in (("features", x), ("labels", y)):
        if not (np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.bool_)):
            raise HpoError(f"{where}: {name} are {a.dtype}, not numbers")
        if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
            bad = int(np.sum(~np.isfinite(a)))
            raise HpoError(f"{where}: {name} hold {bad} NaN or infinite value(s)")
    return x, y
