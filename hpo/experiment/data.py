"""A task's rows, split per seed into train / validation / test and scaled.

The test rows are held out first and never reach the tuner, so a tuner's best
model can be judged on data its selection did not see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from hpo.experiment.profiles import DEFAULT_TASK, MAX_SEED, check_seed
from hpo.experiment.tasks import Task, get_task

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
    """
    seed = check_seed(seed)
    task = get_task(task) if isinstance(task, str) else task
    x, y = task.load()
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, stratify=y if task.stratify else None, random_state=seed
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest,
        y_rest,
        test_size=VALIDATION_FRACTION,
        stratify=y_rest if task.stratify else None,
        random_state=seed,
    )
    scaler = StandardScaler().fit(x_train)

    def scale(part: np.ndarray) -> np.ndarray:
        return scaler.transform(part).astype(np.float32)

    if task.regression:
        mean, std = float(np.mean(y_train)), float(np.std(y_train))

        def target(part: np.ndarray) -> np.ndarray:
            return ((part - mean) / std).astype(np.float32)

    else:

        def target(part: np.ndarray) -> np.ndarray:
            return part.astype(np.int64)

    return Splits(
        x_train=scale(x_train),
        y_train=target(y_train),
        x_val=scale(x_val),
        y_val=target(y_val),
        x_test=scale(x_test),
        y_test=target(y_test),
        scaler=scaler,
    )
