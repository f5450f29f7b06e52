"""How much does the configuration matter on a task? Test scores of random points of the space.

    python benchmarks/space_spread.py --task mnist1d --configs 40 --profile paper

Draws `--configs` points of hpo's MLP space uniformly (each hyperparameter from its
listed values, NumPy generator seeded by `--seed`), trains each as a live trial
would (the graph engine; trial seed i for point i; the split of seed 0), and prints
the spread of the test score at the epoch a tuner would pick (best validation
score) and at the last epoch: the range within which tuners can differ at all.
Writes every point and its scores as JSON with `--json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from hpo.errors import EXIT_BAD_INPUT, HpoError
from hpo.experiment.profiles import get_profile
from hpo.experiment.space import SPACE
from hpo.experiment.tasks import TASKS, get_task


def draw(rng: np.random.Generator) -> dict[str, Any]:
    """A uniformly drawn point of the space: every hyperparameter from its listed values."""
    layers = int(rng.integers(SPACE.min_layers, SPACE.max_layers + 1))
    point: dict[str, Any] = {"num_layers": layers}
    for i in range(layers):
        point[f"units_{i}"] = int(rng.choice(SPACE.units_values))
    point["activation"] = str(rng.choice(SPACE.activations))
    point["dropout"] = float(rng.choice(SPACE.dropout_values))
    point["learning_rate"] = float(rng.choice(SPACE.learning_rates))
    return point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="mnist1d", help=f"one of {', '.join(TASKS)}")
    parser.add_argument("--configs", type=int, default=40)
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    try:
        task = get_task(args.task)
        epochs = get_profile(args.profile).epochs
        if not task.searches_mlp or args.configs < 1:
            raise HpoError("--task must be on hpo's MLP space and --configs at least 1")
    except HpoError as e:
        print(f"space_spread: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from hpo.run.runtime import import_tensorflow_quietly

    import_tensorflow_quietly()
    from hpo.tables.rows import splits_of, train_row

    splits = splits_of(task.name, 0)
    rng = np.random.default_rng(args.seed)
    points = []
    for i in range(args.configs):
        config = draw(rng)
        row = train_row(i, config, i, task, splits, epochs)
        val, test = np.asarray(row.curves["val_accuracy"]), np.asarray(row.curves["test_score"])
        best = int(np.nanargmax(val)) if np.isfinite(val).any() else -1
        points.append(
            {
                "config": config,
                "picked_test_score": None if best < 0 else float(test[best]),
                "last_test_score": float(test[-1]) if np.isfinite(test[-1]) else None,
                "failed_at_epoch": row.failed_at_epoch,
            }
        )
        print(f"{i + 1}/{args.configs} {config} test {points[-1]['picked_test_score']}",
              file=sys.stderr, flush=True)  # fmt: skip
    for key in ("picked_test_score", "last_test_score"):
        scores = np.array([p[key] for p in points if p[key] is not None])
        q = np.percentile(scores, [0, 10, 25, 50, 75, 90, 100])
        names = ("min", "p10", "p25", "median", "p75", "p90", "max")
        spread = "  ".join(f"{n} {v:.3f}" for n, v in zip(names, q, strict=True))
        print(
            f"{task.name} {args.profile} ({len(scores)} of {args.configs} points), {key}: {spread}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"task": task.name, "profile": args.profile, "points": points}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
