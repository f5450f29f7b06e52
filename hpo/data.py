"""Breast Cancer data, split per seed into train / validation / test and scaled.

The test rows are held out first and never reach the tuner, so a tuner's best
model can be judged on data its selection did not see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from hpo.errors import HpoError
from hpo.profiles import MAX_SEED

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


def check_seed(seed: object) -> int:
    """Return `seed` if it is an int in [0, 2**32 - 1]; raise HpoError otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise HpoError(f"seed must be an integer, got {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise HpoError(f"seed must be between 0 and {MAX_SEED}, got {seed}")
    return int(seed)


def load_dataset() -> tuple[np.ndarray, np.ndarray]:
    """The 569 x 30 Breast Cancer features and 0/1 labels shipped with scikit-learn."""
    x, y = load_breast_cancer(return_X_y=True)
    return x, y


def load_splits(seed: int) -> Splits:
    """Stratified test hold-out, then train/validation split; scaler fitted on train rows only.

    The same seed gives byte-identical arrays.
    """
    seed = check_seed(seed)
    x, y = load_dataset()
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, stratify=y, random_state=seed
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=VALIDATION_FRACTION, stratify=y_rest, random_state=seed
    )
    scaler = StandardScaler().fit(x_train)

    def scale(part: np.ndarray) -> np.ndarray:
        return scaler.transform(part).astype(np.float32)

    return Splits(
        x_train=scale(x_train),
        y_train=y_train.astype(np.int64),
        x_val=scale(x_val),
        y_val=y_val.astype(np.int64),
        x_test=scale(x_test),
        y_test=y_test.astype(np.int64),
        scaler=scaler,
    )
