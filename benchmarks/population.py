"""Many models of one shape trained as one batched graph: is it faster, and the same?

    python benchmarks/population.py --task mnist1d --epochs 10 --shapes 32,128x128,512,512x512x512

A table trains every row of a shape (3 dropouts x 3 learning rates x 3 seeds = 27
rows per shape and activation) one after another, each through the graph engine
(`hpo.tables.rows.train_row`). This measures the idea of training them together:
one `tf.function` whose weights and Adam moments carry a leading population axis
(batched matmuls), each model with its own initial weights, learning rate,
dropout rate, row order and dropout seeds -- the ones `train_row` draws for it.

For each shape it trains the same rows both ways, side by side in one process,
and prints the wall time of each, their ratio, how many rows stay within 1e-5
of their separate training, and the largest difference of any epoch's loss,
val_loss, val_accuracy, test_loss or test_score between the two. Besides the
batched matmul, the batched graph adds biases by broadcasting and judges the
test rows in the graph: any of these may round differently. It measures; it
builds nothing a table uses. (Batches of 32 and Keras' default Adam settings, as
hpo's MLP space builds them.)

Hand-written because no library we know of trains a population of Keras models,
each with its own optimiser settings and dropout seeds, in one graph.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from typing import Any

import numpy as np

ACTIVATION = "relu"
DROPOUTS = (0.0, 0.2, 0.5)
LEARNING_RATES = (0.001, 0.01, 0.1)
SEEDS = (0, 1, 2)
TOLERANCE = 1e-5  # per epoch and metric, the bound for a batched trainer
CURVES = ("loss", "val_loss", "val_accuracy", "test_loss", "test_score")


def rows_of(shape: tuple[int, ...]) -> list[tuple[dict[str, Any], int]]:
    """The table's rows of one shape and activation: (configuration, training seed)."""
    rows = []
    for dropout, lr, seed in itertools.product(DROPOUTS, LEARNING_RATES, SEEDS):
        config: dict[str, Any] = {"num_layers": len(shape)}
        config.update({f"units_{i}": u for i, u in enumerate(shape)})
        config.update({"activation": ACTIVATION, "dropout": dropout, "learning_rate": lr})
        rows.append((config, seed))
    return rows


def draws(config: dict[str, Any], seed: int, task: Any, rows: int, epochs: int) -> dict[str, Any]:
    """A row's initial weights, row orders and dropout seeds, drawn as `train_row` draws them."""
    from hpo.tables.rows import seed_and_build

    _, model = seed_and_build(config, seed, task)
    weights = [np.asarray(w) for w in model.trainable_variables]
    generator = np.random.default_rng(np.random.randint(2**31 - 1))  # hpo.engines.graph.train
    orders, seeds = [], []
    for _ in range(epochs):
        orders.append(generator.permutation(rows))
        seeds.append(generator.integers(2**31 - 1, size=2))
    return {"weights": weights, "orders": np.array(orders), "seeds": np.array(seeds)}


def population_epoch(layers: int, population: int) -> Any:
    """One epoch of `population` models of `layers` hidden layers, as one traced function."""
    import tensorflow as tf

    from hpo.engines.graph import _correct, _loss

    def forward(weights: list[Any], x: Any, rate: Any, seeds: Any | None) -> Any:
        h = x  # (P, B, features)
        for i in range(0, len(weights) - 2, 2):
            h = tf.nn.relu(tf.matmul(h, weights[i]) + weights[i + 1][:, None, :])
            if seeds is not None:  # each model its own stateless mask, as the single engine's
                h = tf.stack(
                    [
                        tf.nn.experimental.stateless_dropout(
                            h[p], rate[p], seed=seeds[p] + tf.constant([0, i], tf.int32)
                        )
                        for p in range(population)
                    ]
                )
        return tf.matmul(h, weights[-2]) + weights[-1][:, None, :]

    @tf.function(autograph=False, reduce_retracing=True)
    def epoch(weights, m, v, step, lr, rate, x, y, orders, seeds, xv, yv, xt, yt):  # type: ignore[no-untyped-def]
        beta_1, beta_2, epsilon = 0.9, 0.999, 1e-7
        keep_1, keep_2 = tf.constant(1 - 0.9), tf.constant(1 - 0.999)
        rows = tf.shape(orders)[1]
        batches = (rows + 31) // 32

        def train_step(b, weights, m, v, step, loss_sum, correct_sum):  # type: ignore[no-untyped-def]
            index = orders[:, b * 32 : tf.minimum((b + 1) * 32, rows)]
            xb, yb = tf.gather(x, index), tf.gather(y, index)
            with tf.GradientTape() as tape:
                tape.watch(weights)
                logits = forward(weights, xb, rate, seeds + tf.stack([0, b * 8])[None, :])
                per_row = tf.stack([_loss("softmax", yb[p], logits[p]) for p in range(population)])
                count = tf.cast(tf.shape(per_row)[1], tf.float32)
                per_model = tf.reduce_sum(per_row, 1) / count
                loss = tf.reduce_sum(per_model)  # models share nothing: each its own gradient
            grads = tape.gradient(loss, weights)
            step = step + 1.0
            alpha = lr * tf.sqrt(1.0 - tf.pow(beta_2, step)) / (1.0 - tf.pow(beta_1, step))
            m = [mi + (g - mi) * keep_1 for mi, g in zip(m, grads, strict=True)]
            v = [vi + (tf.square(g) - vi) * keep_2 for vi, g in zip(v, grads, strict=True)]
            weights = [
                w
                - (mi * tf.reshape(alpha, [-1] + [1] * (len(w.shape) - 1)))
                / (tf.sqrt(vi) + epsilon)
                for w, mi, vi in zip(weights, m, v, strict=True)
            ]
            correct = tf.stack([_correct("softmax", yb[p], logits[p]) for p in range(population)])
            return (
                b + 1,
                weights,
                m,
                v,
                step,
                loss_sum + per_model * count,
                correct_sum + tf.reduce_sum(correct, 1),
            )

        zeros = tf.zeros([population])
        _, weights, m, v, step, loss_sum, correct_sum = tf.while_loop(
            lambda b, *_: b < batches,
            train_step,
            (tf.constant(0), weights, m, v, step, zeros, zeros),
        )
        total = tf.cast(rows, tf.float32)

        def judged(xs: Any, ys: Any) -> list[Any]:  # each model's mean loss and accuracy
            logits = forward(weights, tf.broadcast_to(xs, [population, *xs.shape]), rate, None)
            return [
                tf.stack([tf.reduce_mean(f("softmax", ys, logits[p])) for p in range(population)])
                for f in (_loss, _correct)
            ]

        # A table's rows also judge every epoch's weights on the test rows: so does this.
        metrics = [loss_sum / total, *judged(xv, yv), *judged(xt, yt)]
        return weights, m, v, step, tf.stack(metrics, 1)

    return epoch


def train_population(
    rows: list[tuple[dict[str, Any], int]], drawn: list[dict[str, Any]], splits: Any, epochs: int
) -> np.ndarray:
    """Every row's curves (rows x epochs x CURVES), trained together."""
    import tensorflow as tf

    population = len(rows)
    layers = rows[0][0]["num_layers"]
    weights = [
        tf.constant(np.stack([d["weights"][i] for d in drawn])) for i in range(2 * (layers + 1))
    ]
    m = [tf.zeros_like(w) for w in weights]
    v = [tf.zeros_like(w) for w in weights]
    step = tf.constant(0.0)
    lr = tf.constant([c["learning_rate"] for c, _ in rows], tf.float32)
    rate = tf.constant([c["dropout"] for c, _ in rows], tf.float32)
    x = tf.constant(np.asarray(splits.x_train, "float32"))
    y = tf.constant(np.asarray(splits.y_train, "float32").reshape(-1, 1))
    xv = tf.constant(np.asarray(splits.x_val, "float32"))
    yv = tf.constant(np.asarray(splits.y_val, "float32").reshape(-1, 1))
    xt = tf.constant(np.asarray(splits.x_test, "float32"))
    yt = tf.constant(np.asarray(splits.y_test, "float32").reshape(-1, 1))
    epoch_fn = population_epoch(layers, population)
    curves = np.zeros((population, epochs, len(CURVES)))
    for e in range(epochs):
        orders = tf.constant(np.stack([d["orders"][e] for d in drawn]), tf.int32)
        seeds = tf.constant(np.stack([d["seeds"][e] for d in drawn]), tf.int32)
        weights, m, v, step, metrics = epoch_fn(
            weights, m, v, step, lr, rate, x, y, orders, seeds, xv, yv, xt, yt
        )
        curves[:, e] = metrics.numpy()
    return curves


def main(argv: list[str] | None = None) -> int:
    from hpo.experiment.tasks import TASKS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="mnist1d", help=f"one of {', '.join(TASKS)}")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--shapes", default="32,128x128,512,512x512x512")
    args = parser.parse_args(argv)
    try:
        shapes = [tuple(int(u) for u in s.split("x")) for s in args.shapes.split(",")]
    except ValueError:
        shapes = []
    if not shapes or any(not 1 <= len(s) <= 3 or min(s) < 1 for s in shapes):
        parser.error(f"--shapes {args.shapes!r}: 1 to 3 positive widths each, like 32,128x128")
    if args.epochs < 1:
        parser.error(f"--epochs {args.epochs}: at least 1")
    from hpo.errors import HpoError
    from hpo.experiment.tasks import get_task
    from hpo.run.runtime import set_threads
    from hpo.tables.worker import TF_THREADS

    set_threads(TF_THREADS)  # as a table's worker processes train, before any op runs
    from hpo.tables.rows import splits_of, train_row

    try:
        task = get_task(args.task)
        splits = splits_of(args.task, 0)
    except HpoError as e:
        print(f"population: error: {e}", file=sys.stderr)
        return 2
    if task.mlp_head.loss != "sparse_categorical_crossentropy" or task.batch_size != 32:
        print(
            "population: error: this measurement covers softmax tasks in batches of 32 only",
            file=sys.stderr,
        )
        return 2
    n = len(splits.x_train)
    # One warm-up row traces the single engine's graph for each depth before any timing.
    for shape in shapes:
        config, seed = rows_of(shape)[0]
        train_row(0, config, seed, task, splits, 1)
    print(
        f"{args.task}, {args.epochs} epochs, {ACTIVATION}, 27 rows per shape,"
        f" {TF_THREADS} TensorFlow thread",
        flush=True,
    )
    for shape in shapes:
        rows = rows_of(shape)
        started = time.perf_counter()
        trained = [train_row(0, c, s, task, splits, args.epochs) for c, s in rows]
        separate_s = time.perf_counter() - started
        separate = np.array([np.stack([t.curves[k] for k in CURVES], 1) for t in trained])
        started = time.perf_counter()
        drawn = [draws(c, s, task, n, args.epochs) for c, s in rows]
        batched = train_population(rows, drawn, splits, args.epochs)
        batched_s = time.perf_counter() - started
        diff = np.abs(batched - separate)
        diff[np.isnan(batched) != np.isnan(separate)] = np.inf  # one side diverged: not equal
        worst = {k: float(np.nanmax(diff[:, :, i])) for i, k in enumerate(CURVES)}
        within = int((np.nanmax(diff, axis=(1, 2)) <= TOLERANCE).sum())
        first = int((np.nanmax(diff[:, :1], axis=(1, 2)) <= TOLERANCE).sum())
        print(
            f"{'x'.join(map(str, shape))}: separate {separate_s:.1f} s, batched {batched_s:.1f} s"
            f" (tracing included), {separate_s / batched_s:.2f}x; rows within {TOLERANCE:g} of"
            f" their separate training: {first} of {len(rows)} after the first epoch, {within}"
            f" after all {args.epochs}; largest difference "
            + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
