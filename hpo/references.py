"""Untuned references on the same splits: did tuning beat doing nothing?"""

from __future__ import annotations

from typing import Any

from sklearn.linear_model import LogisticRegression

from hpo.data import load_splits
from hpo.profiles import DEFAULT_TASK
from hpo.runtime import seed_everything
from hpo.search import BATCH_SIZE
from hpo.space import build_model, fixed_hyperparameters

# A sensible hand-picked model inside the space: what one would try without a tuner.
DEFAULT_MLP: dict[str, Any] = {
    "num_layers": 1,
    "units_0": 64,
    "activation": "relu",
    "dropout": 0.0,
    "learning_rate": 0.001,
}
DEFAULT_EPOCHS = 50


def reference_scores(seed: int, task: str = DEFAULT_TASK) -> dict[str, Any]:
    """Test accuracy of the default MLP (50 epochs, no tuning) and of LogisticRegression."""
    splits = load_splits(seed, task)
    seed_everything(seed)
    model = build_model(fixed_hyperparameters(DEFAULT_MLP), task)
    model.fit(
        splits.x_train,
        splits.y_train,
        epochs=DEFAULT_EPOCHS,
        batch_size=BATCH_SIZE,
        verbose=0,
    )
    _, mlp_accuracy = model.evaluate(splits.x_test, splits.y_test, verbose=0)
    logreg = LogisticRegression(max_iter=1000).fit(splits.x_train, splits.y_train)
    return {
        "seed": seed,
        "default_mlp": float(mlp_accuracy),
        "logistic_regression": float(logreg.score(splits.x_test, splits.y_test)),
    }
