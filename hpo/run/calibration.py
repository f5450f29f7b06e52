"""A machine-speed yardstick: seconds for a fixed, seeded Keras fit on this machine, now.

Search times divided by it are comparable across machines (to first order): a
machine twice as fast halves both.
"""

from __future__ import annotations

import statistics
import time

from hpo.experiment.data import load_splits
from hpo.experiment.model import build_model, fixed_hyperparameters
from hpo.experiment.tasks import BATCH_SIZE
from hpo.run.references import DEFAULT_MLP
from hpo.run.runtime import seed_everything

CALIBRATION_EPOCHS = 10
CALIBRATION_REPEATS = 3


def calibrate(repeats: int = CALIBRATION_REPEATS) -> float:
    """Median seconds of `repeats` builds + 10-epoch fits (with validation) of the default MLP.

    Like a trial, each repeat builds a fresh model, so graph tracing is in the yardstick.
    """
    splits = load_splits(0)
    times = []
    for _ in range(repeats):
        seed_everything(0)
        start = time.perf_counter()
        model = build_model(fixed_hyperparameters(DEFAULT_MLP))
        model.fit(
            splits.x_train,
            splits.y_train,
            validation_data=(splits.x_val, splits.y_val),
            epochs=CALIBRATION_EPOCHS,
            batch_size=BATCH_SIZE,
            verbose=0,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)
