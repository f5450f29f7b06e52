"""The graph engine: every model of a search trained by one traced TensorFlow graph.

Keras traces a new graph for each model it fits, and on a few hundred rows
that tracing, not arithmetic, is most of a trial's cost. Here the training
epoch is one `tf.function` whose weights, Adam moments, learning rate, dropout
rate and activation are *inputs* with unknown sizes, so it is traced once per
layer count per process and then serves every model of that depth.

What is trained is what `model.fit` trains (`QuickFit`, the "keras" engine):
the model `build_model` returns, initialised by Keras; batches of 32 in a
fresh shuffle each epoch; the head's loss as Keras computes it; dropout at the
model's rate in training only; Adam with Keras' update rule and settings. After
each epoch the weights are written back into the Keras model and the epoch's
`loss`, `val_loss`, `val_accuracy` (and `accuracy`) go to the same callbacks, so
Keras Tuner's oracle, checkpoints and Hyperband's promotions see what they see
with `fit`. tests/test_graphfit.py checks the equivalence epoch by epoch.

Only models of the search space's kind are accepted -- Dense layers of one
activation, each followed by Dropout of one rate or by none (rate 0), a task's
head (one-unit sigmoid with binary cross entropy, softmax with sparse categorical
cross entropy, or one linear unit with mean squared error), and Adam -- anything
else is refused with a message naming `--engine keras`, which trains any model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import tensorflow as tf

from hpo._keras_tuner import SaveBestEpoch, TunerCallback
from hpo.engines.keras_fit import FailOnNonFiniteLoss, QuickFit
from hpo.errors import HpoError
from hpo.experiment.tasks import Task

_HEADS = {  # (activation, loss) -> what the graph computes for that head
    ("sigmoid", "binary_crossentropy"): "binary",
    ("softmax", "sparse_categorical_crossentropy"): "softmax",
    ("linear", "mean_squared_error"): "regression",
}
METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")  # an epoch's logs, as fit's
_ACTIVATE = {"relu": tf.nn.relu, "tanh": tf.nn.tanh, "sigmoid": tf.nn.sigmoid}


@dataclass(frozen=True)
class MLP:
    """What the graph needs to know about a built model, read from the model itself."""

    layers: int  # hidden layers
    activation: str
    head: str  # a value of _HEADS
    dropout: float
    learning_rate: float
    beta_1: float
    beta_2: float
    epsilon: float


def describe_model(model: keras.Model, task: Task) -> MLP:
    """The model as an `MLP`, or HpoError saying why the graph engine cannot train it."""

    def refuse(why: str) -> HpoError:
        return HpoError(f"the graph engine cannot train this model: {why}")

    if task.objective not in ("val_accuracy", "val_loss"):
        raise refuse(f"it computes val_accuracy and val_loss, not {task.objective}")
    expected = task.head if task.searches_mlp else None
    if expected is not None and (expected.activation, expected.loss) not in _HEADS:
        raise refuse(f"head {expected.activation}/{expected.loss} is not supported")
    layers = list(model.layers)
    if not layers or not isinstance(layers[-1], keras.layers.Dense):
        raise refuse("its last layer is not Dense")
    head, hidden = layers[-1], layers[:-1]
    # Dense layers, each followed by Dropout or not (no Dropout: rate 0, an exact identity).
    dense: list[keras.layers.Dense] = []
    rates_per_layer: list[float] = []
    for layer in hidden:
        if type(layer) is keras.layers.Dense:
            dense.append(layer)
            rates_per_layer.append(0.0)
        elif type(layer) is keras.layers.Dropout and dense and len(rates_per_layer) == len(dense):
            if rates_per_layer[-1] != 0.0:
                raise refuse("a Dense layer is followed by two Dropout layers")
            rates_per_layer[-1] = float(layer.rate)
        else:
            raise refuse("its hidden layers are not Dense layers, each with or without Dropout")
    if not dense:
        raise refuse("it has no hidden Dense layer")
    activations = {keras.activations.serialize(d.activation) for d in dense}
    rates = set(rates_per_layer)
    if len(activations) != 1 or next(iter(activations)) not in _ACTIVATE:
        raise refuse(f"hidden activations {sorted(activations)} are not one of {tuple(_ACTIVATE)}")
    if len(rates) != 1:
        raise refuse(f"dropout rates {sorted(rates)} differ between layers")
    output = (keras.activations.serialize(head.activation), model.loss)
    if not isinstance(model.loss, str) or output not in _HEADS:
        raise refuse(f"its output {output[0]} with loss {output[1]!r} is not one of its heads")
    if expected is not None and output != (expected.activation, expected.loss):
        raise refuse(f"its output is not {expected.activation} with loss {expected.loss!r}")
    if not all(d.use_bias for d in (*dense, head)):
        raise refuse("a Dense layer has no bias")
    opt = model.optimizer
    if type(opt) is not keras.optimizers.Adam:
        raise refuse(f"its optimizer is {type(opt).__name__}, not Adam")
    if opt.amsgrad or opt.weight_decay or opt.clipnorm or opt.clipvalue or opt.global_clipnorm:
        raise refuse("its Adam uses amsgrad, weight decay or clipping")
    if opt.use_ema or opt.gradient_accumulation_steps or opt.loss_scale_factor:
        raise refuse("its Adam uses EMA, gradient accumulation or loss scaling")
    if isinstance(opt._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        raise refuse("its learning rate is a schedule")
    return MLP(
        layers=len(dense),
        activation=next(iter(activations)),
        head=_HEADS[output],
        dropout=next(iter(rates)),
        learning_rate=float(opt.learning_rate),
        beta_1=float(opt.beta_1),
        beta_2=float(opt.beta_2),
        epsilon=float(opt.epsilon),
    )


def _forward(
    weights: list[tf.Tensor],
    x: tf.Tensor,
    activation: str,
    rate: tf.Tensor,
    seed: tf.Tensor | None,
    wide_head: bool = False,
) -> tf.Tensor:
    """The head's logits; dropout (scaled by 1/(1-rate), as Keras does) when `seed` is given."""
    h = x
    for i in range(0, len(weights) - 2, 2):
        h = _ACTIVATE[activation](tf.nn.bias_add(tf.matmul(h, weights[i]), weights[i + 1]))
        if seed is not None:  # at rate 0 this multiplies by exactly 1.0: no branch needed
            h = tf.nn.experimental.stateless_dropout(
                h, rate, seed=seed + tf.constant([0, i], tf.int32)
            )
    # Keras adds a one-unit head's bias with tf.add, wider biases with tf.nn.bias_add (whose
    # gradient sums in another order): the same ops give the same floats.
    out = tf.matmul(h, weights[-2])
    return tf.nn.bias_add(out, weights[-1]) if wide_head else tf.add(out, weights[-1])


def _loss(head: str, y: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Per-row loss, as Keras computes it for the head (sigmoid and softmax: from logits)."""
    if head == "binary":
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits), -1)
    if head == "softmax":
        labels = tf.cast(tf.squeeze(y, -1), tf.int64)
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return tf.reduce_mean(tf.square(y - logits), -1)  # linear head: the output is the logit


def _correct(head: str, y: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Per-row accuracy as Keras' metric for the head (zeros for regression, never logged)."""
    if head == "binary":  # keras.metrics.binary_accuracy: probability > 0.5
        predicted = tf.cast(tf.nn.sigmoid(logits) > 0.5, y.dtype)
        return tf.reduce_mean(tf.cast(tf.equal(y, predicted), tf.float32), -1)
    if head == "softmax":  # keras.metrics.sparse_categorical_accuracy: argmax
        predicted = tf.cast(tf.argmax(logits, -1), y.dtype)
        return tf.cast(tf.equal(tf.squeeze(y, -1), predicted), tf.float32)
    return tf.zeros(tf.shape(y)[:1])


@functools.cache
def epoch_graph(layers: int, activation: str, head: str = "binary") -> Any:
    """The traced epoch for models of this depth and activation (cached: traced once each).

    The activation is part of the graph, not an input: TensorFlow fuses it with
    the layer's matmul and bias as it does in Keras' own graph, and the fused
    tanh and sigmoid round differently from the unfused ones.
    """
    n = 2 * (layers + 1)
    matrix, vector = tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None], tf.float32)
    weight_specs = [matrix if i % 2 == 0 else vector for i in range(n)]
    scalar = tf.TensorSpec([], tf.float32)
    signature = [
        weight_specs,  # weights: kernel, bias per layer, head last
        weight_specs,  # Adam first moments
        weight_specs,  # Adam second moments
        scalar,  # Adam steps taken so far
        scalar,  # learning rate
        tf.TensorSpec([5], tf.float32),  # beta_1, beta_2, epsilon, 1 - beta_1, 1 - beta_2
        scalar,  # dropout rate
        tf.TensorSpec([None, None], tf.float32),  # x_train
        tf.TensorSpec([None, None], tf.float32),  # y_train
        tf.TensorSpec([None], tf.int32),  # this epoch's row order
        tf.TensorSpec([], tf.int32),  # batch size
        tf.TensorSpec([2], tf.int32),  # dropout seed of this epoch
        tf.TensorSpec([None, None], tf.float32),  # x_val
        tf.TensorSpec([None, None], tf.float32),  # y_val
    ]

    # An explicit tf.while_loop: the loop's state and shapes are stated, not inferred.
    @tf.function(input_signature=signature, autograph=False)
    def epoch(  # noqa: PLR0913 - the graph's inputs
        weights: Any,
        m: Any,
        v: Any,
        step: Any,
        lr: Any,
        adam: Any,
        rate: Any,
        x: Any,
        y: Any,
        order: Any,
        batch_size: Any,
        seed: Any,
        xv: Any,
        yv: Any,
    ) -> Any:
        # 1 - beta as Keras has it: the difference of Python floats, then rounded to float32.
        beta_1, beta_2, epsilon, keep_1, keep_2 = (adam[i] for i in range(5))
        rows = tf.shape(order)[0]
        batches = (rows + batch_size - 1) // batch_size

        def train_step(
            b: Any, weights: Any, m: Any, v: Any, step: Any, loss_sum: Any, correct_sum: Any
        ) -> Any:
            index = order[b * batch_size : tf.minimum((b + 1) * batch_size, rows)]
            xb, yb = tf.gather(x, index), tf.gather(y, index)
            with tf.GradientTape() as tape:
                tape.watch(weights)
                logits = _forward(
                    weights, xb, activation, rate, seed + tf.stack([0, b * 8]), head == "softmax"
                )
                per_row = _loss(head, yb, logits)
                count = tf.cast(tf.size(per_row), tf.float32)
                loss = tf.math.divide_no_nan(tf.reduce_sum(per_row), count)
            grads = tape.gradient(loss, weights)
            # Keras' Adam.update_step, in its order of operations.
            step = step + 1.0
            alpha = lr * tf.sqrt(1.0 - tf.pow(beta_2, step)) / (1.0 - tf.pow(beta_1, step))
            m = [mi + (g - mi) * keep_1 for mi, g in zip(m, grads, strict=True)]
            v = [vi + (tf.square(g) - vi) * keep_2 for vi, g in zip(v, grads, strict=True)]
            weights = [
                w - (mi * alpha) / (tf.sqrt(vi) + epsilon)
                for w, mi, vi in zip(weights, m, v, strict=True)
            ]
            return (
                b + 1,
                weights,
                m,
                v,
                step,
                loss_sum + loss * count,
                correct_sum + tf.reduce_sum(_correct(head, yb, logits)),
            )

        shapes = [w.shape for w in weight_specs]
        scalar_shape = tf.TensorShape([])
        _, weights, m, v, step, loss_sum, correct_sum = tf.while_loop(
            lambda b, *_: b < batches,
            train_step,
            (tf.constant(0), weights, m, v, step, tf.constant(0.0), tf.constant(0.0)),
            shape_invariants=(scalar_shape, shapes, shapes, shapes, *[scalar_shape] * 3),
        )
        total = tf.cast(rows, tf.float32)
        val_logits = _forward(weights, xv, activation, rate, None, head == "softmax")
        return (
            weights,
            m,
            v,
            step,
            tf.stack(  # in the order of METRICS
                [
                    loss_sum / total,
                    correct_sum / total,
                    tf.reduce_mean(_loss(head, yv, val_logits)),
                    tf.reduce_mean(_correct(head, yv, val_logits)),
                ]
            ),
        )

    # Traced here, once: calling the concrete function skips tf.function's dispatch, and
    # TensorFlow's "frequent retracing" warning (it counts these 9 functions as one).
    return epoch.get_concrete_function()


class GraphFit(QuickFit):
    """`build` as given; `fit` trains through the shared graph (see the module docstring),
    or, a model the graph does not accept, with Keras' fit (`QuickFit`)."""

    shares_graphs = True  # hpo.run.search keeps TensorFlow's kernel cache between its trials

    def fit(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        x: np.ndarray,
        y: np.ndarray,
        *,
        validation_data: tuple[np.ndarray, np.ndarray],
        batch_size: int,
        epochs: int,
        callbacks: list[keras.callbacks.Callback] | None = None,
        initial_epoch: int = 0,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        try:
            mlp = describe_model(model, self.task)
        except HpoError as refused:
            self.refusal = str(refused)
            return super().fit(
                hp,
                model,
                x,
                y,
                validation_data=validation_data,
                batch_size=batch_size,
                epochs=epochs,
                callbacks=callbacks,
                initial_epoch=initial_epoch,
                **kwargs,
            )
        self.trained_by, self.refusal = "graph", None
        return train(
            model,
            mlp,
            (x, y),
            validation_data,
            batch_size=batch_size,
            epochs=range(initial_epoch, epochs),
            callbacks=[*(callbacks or []), FailOnNonFiniteLoss()],
        )


def _as_matrix(a: np.ndarray) -> tf.Tensor:
    a = np.asarray(a, dtype="float32")
    return tf.constant(a.reshape(len(a), -1))


def train(
    model: keras.Model,
    mlp: MLP,
    train_rows: tuple[np.ndarray, np.ndarray],
    val_rows: tuple[np.ndarray, np.ndarray],
    *,
    batch_size: int,
    epochs: range,
    callbacks: list[keras.callbacks.Callback],
    orders: Callable[[int], np.ndarray] | None = None,
) -> keras.callbacks.History:
    """Train `model` in place over `epochs`, calling `callbacks` as `fit` would per epoch.

    `orders(epoch)` gives an epoch's row order; by default a permutation drawn
    from NumPy's global generator, which hpo.tuners seeds per trial (the same
    trial shuffles alike wherever it runs). The dropout seed comes from there too.
    """
    x, y = _as_matrix(train_rows[0]), _as_matrix(train_rows[1])
    xv, yv = _as_matrix(val_rows[0]), _as_matrix(val_rows[1])
    rows = int(x.shape[0])
    generator = np.random.default_rng(np.random.randint(2**31 - 1))
    if orders is None:

        def orders(epoch: int) -> np.ndarray:
            return generator.permutation(rows)

    variables = list(model.trainable_variables)
    weights = [tf.convert_to_tensor(w) for w in variables]
    if len(weights) != 2 * (mlp.layers + 1):
        raise HpoError(f"expected {2 * (mlp.layers + 1)} weights, found {len(weights)}")
    m = [tf.zeros_like(w) for w in weights]
    v = [tf.zeros_like(w) for w in weights]
    step = tf.constant(0.0)
    graph = epoch_graph(mlp.layers, mlp.activation, mlp.head)
    # The traced function called with its inputs already flat, in the signature's order:
    # calling the ConcreteFunction would bind and check its ~45 nested arguments each epoch.
    run_epoch = graph.inference_fn.call_preflattened
    names = METRICS if mlp.head != "regression" else ("loss", "val_loss")
    constants = (
        tf.constant(mlp.learning_rate, tf.float32),
        tf.constant(
            [mlp.beta_1, mlp.beta_2, mlp.epsilon, 1 - mlp.beta_1, 1 - mlp.beta_2], tf.float32
        ),
        tf.constant(mlp.dropout, tf.float32),
    )
    batch, captured = tf.constant(batch_size, tf.int32), list(graph.captured_inputs)
    # Keras Tuner's own callbacks and ours do not read the weights during training:
    # with only those, the model gets its weights when training ends (and the
    # checkpoint the best epoch's), not after every epoch.
    every_epoch = not all(isinstance(c, _WEIGHTLESS) for c in callbacks)
    callbacks = [
        DeferredBestSave(c, lambda: weights) if type(c) is SaveBestEpoch else c for c in callbacks
    ]
    hooks = keras.callbacks.CallbackList(callbacks, add_history=True, model=model)
    model.stop_training = False
    hooks.on_train_begin()
    for epoch in epochs:
        hooks.on_epoch_begin(epoch)
        order = tf.constant(orders(epoch), tf.int32)
        seed = tf.constant(generator.integers(2**31 - 1, size=2), tf.int32)
        weights, m, v, step, metrics = run_epoch(
            [*weights, *m, *v, step, *constants, x, y, order, batch, seed, xv, yv, *captured]
        )
        if every_epoch:
            _assign(variables, weights)
        logs = {k: v for k, v in zip(METRICS, metrics.numpy().tolist(), strict=True) if k in names}
        hooks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    _assign(variables, weights)
    hooks.on_train_end()
    return model.history


_WEIGHTLESS = (TunerCallback, SaveBestEpoch, FailOnNonFiniteLoss)


def _assign(variables: list[keras.Variable], values: list[tf.Tensor]) -> None:
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


class DeferredBestSave(keras.callbacks.Callback):
    """Keras Tuner's best-epoch checkpoint, written once when training ends.

    `SaveBestEpoch` writes the weights file at every epoch that improves the
    objective; this keeps that epoch's weights instead (`current()`: the graph's
    outputs, immutable tensors, so keeping them costs nothing) and writes the
    same file, from the same epoch, once.
    """

    def __init__(self, save: SaveBestEpoch, current: Callable[[], list[tf.Tensor]]) -> None:
        super().__init__()
        self.save = save
        self.current = current
        self.due = False  # whether SaveBestEpoch would have written the file by now
        self.weights: list[tf.Tensor] = []  # what it would have written last

    def set_model(self, model: keras.Model) -> None:
        super().set_model(model)
        self.save.set_model(model)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        objective = self.save.objective
        if objective.has_value(logs):  # else Keras Tuner saves every epoch
            value = objective.get_value(logs)
            if not objective.better_than(value, self.save.best_value):
                return
            self.save.best_value = value
        self.due = True
        self.weights = self.current()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if not self.due:
            return
        variables = list(self.model.trainable_variables)
        _assign(variables, self.weights)
        self.save._save_model()
        _assign(variables, self.current())
