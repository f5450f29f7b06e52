"""Untuned references on the same splits: did tuning beat doing nothing?"""

from __future__ import annotations

from typing import Any

from sklearn.linear_model import LogisticRegression

from hpo.experiment.data import load_splits
from hpo.experiment.model import build_model, fixed_hyperparameters
from hpo.experiment.profiles import DEFAULT_ENGINE, DEFAULT_TASK, check_engine
from hpo.experiment.tasks import BATCH_SIZE
from hpo.run.runtime import seed_everything

# A sensible hand-picked model inside the space: what one would try without a tuner.
DEFAULT_MLP: dict[str, Any] = {
    "num_layers": 1,
    "units_0": 64,
    "activation": "relu",
    "dropout": 0.0,
    "learning_rate": 0.001,
}
DEFAULT_EPOCHS = 50


def reference_scores(
    seed: int, task: str = DEFAULT_TASK, engine: str = DEFAULT_ENGINE
) -> dict[str, Any]:
    """Test accuracy of the default MLP (50 epochs, no tuning) and of LogisticRegression.

    The MLP is trained by `engine`, as the tuners' trials are (hpo.experiment.profiles.ENGINES).
    """
    check_engine(engine)
    splits = load_splits(seed, task)
    seed_everything(seed)
    model = build_model(fixed_hyperparameters(DEFAULT_MLP), task)
    if engine == "graph":
        from hpo.engines.graph import describe_model, train
        from hpo.experiment.tasks import get_task

        train(
            model,
            describe_model(model, get_task(task)),
            (splits.x_train, splits.y_train),
            (splits.x_val, splits.y_val),
            batch_size=BATCH_SIZE,
            epochs=range(DEFAULT_EPOCHS),
            callbacks=[],
        )
    else:
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
        "engine": engine,
        "default_mlp": float(mlp_accuracy),
        "logistic_regression": float(logreg.score(splits.x_test, splits.y_test)),
    }
