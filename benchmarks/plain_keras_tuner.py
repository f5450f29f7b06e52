"""The seed report's experiment as a plain Keras Tuner script: the peer hpo is timed against.

This is what the lab's author would write: Keras Tuner's `Hyperband`,
`BayesianOptimization` or `RandomSearch` on the model-building function, then
`search()` and `get_best_models()`, nothing else. It shares with hpo only the
protocol -- the data split, `build_model`, batch size, budgets and the oracle
seed -- so that both train the same trials; none of hpo's training or oracle
changes. One class-level epoch counter is the only addition (Keras Tuner
deep-copies callbacks per trial, so an instance counter would reset).

    python benchmarks/plain_keras_tuner.py --tuner hyperband --seed 0 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402

from hpo.experiment.data import load_splits  # noqa: E402
from hpo.experiment.model import build_model  # noqa: E402
from hpo.experiment.profiles import get_profile  # noqa: E402
from hpo.experiment.tasks import (
    BATCH_SIZE,  # noqa: E402
    get_task,  # noqa: E402
)
from hpo.run.runtime import seed_everything  # noqa: E402
from hpo.tuners import oracle_seed  # noqa: E402
from hpo.tuners.bayesian import initial_points  # noqa: E402
from hpo.tuners.hyperband import FACTOR  # noqa: E402

OBJECTIVE = get_task("breast_cancer").objective


class CountEpochs(keras.callbacks.Callback):
    epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        CountEpochs.epochs += 1


def make_tuner(name: str, profile, seed: int, directory: str) -> kt.Tuner:
    common = dict(
        hypermodel=build_model, objective=OBJECTIVE, seed=oracle_seed(seed), directory=directory
    )
    if name == "hyperband":
        return kt.Hyperband(
            max_epochs=profile.epochs,
            factor=FACTOR,
            project_name="hyperband_tuning",
            **common,
        )
    if name == "bayesian":
        return kt.BayesianOptimization(
            max_trials=profile.max_trials,
            num_initial_points=initial_points(profile),
            project_name="bayesian_tuning",
            **common,
        )
    if name == "random":
        return kt.RandomSearch(
            max_trials=profile.max_trials, project_name="random_tuning", **common
        )
    raise SystemExit(f"plain_keras_tuner: unknown tuner {name!r}")


def run(name: str, seed: int, profile_name: str, directory: str) -> dict:
    profile = get_profile(profile_name)
    CountEpochs.epochs = 0
    splits = load_splits(seed)
    seed_everything(seed)
    tuner = make_tuner(name, profile, seed, directory)
    start = time.perf_counter()
    tuner.search(
        splits.x_train,
        splits.y_train,
        validation_data=(splits.x_val, splits.y_val),
        epochs=profile.epochs,
        batch_size=BATCH_SIZE,
        callbacks=[CountEpochs()],
        verbose=0,
    )
    wall = time.perf_counter() - start
    best = tuner.get_best_models(1)[0]
    test_loss, test_accuracy = best.evaluate(
        splits.x_test, splits.y_test, batch_size=BATCH_SIZE, verbose=0
    )
    trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
    return {
        "tuner": name,
        "seed": seed,
        "profile": profile.name,
        "wall_time_s": wall,
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "best_val_accuracy": float(tuner.oracle.get_best_trials(1)[0].score),
        "trials_completed": sum(t.status == "COMPLETED" for t in trials),
        "epochs_trained": CountEpochs.epochs,
        "trials": {
            t.trial_id: {
                k: v for k, v in t.hyperparameters.values.items() if not k.startswith("tuner/")
            }
            for t in trials
        },
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuner", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--json", required=True, help="where to write the record")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="plain-kt-") as directory:
        record = run(args.tuner, args.seed, args.profile, directory)
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
