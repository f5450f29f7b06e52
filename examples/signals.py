"""Your own model and data: a 1-D convolutional network classifying noisy signals.

Four kinds of wave (sine, square, triangle, sawtooth), each with a random frequency,
phase and amplitude and Gaussian noise, generated from a fixed seed. Save it as
signals.py in the folder you run from (from a clone, name it examples.signals:task):

    hpo run --task signals:task --tuner tpe --seed 0 --profile quick
"""

import keras
import keras_tuner as kt
import numpy as np

import hpo

SIGNALS, STEPS, CLASSES, NOISE = 1200, 64, 4, 0.3


def make_signals():
    """(x, y): x of shape (1200, 64, 1) float32, y the kind of wave, 0-3; always the same."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, CLASSES, SIGNALS)
    cycles = rng.uniform(1, 6, (SIGNALS, 1)) * np.arange(STEPS) / STEPS
    phase = (cycles + rng.uniform(0, 1, (SIGNALS, 1))) % 1  # in [0, 1): where in its cycle
    waves = [
        np.sin(2 * np.pi * phase),  # sine
        np.where(phase < 0.5, 1.0, -1.0),  # square
        4 * np.abs(phase - 0.5) - 1,  # triangle
        2 * phase - 1,  # sawtooth
    ]
    x = np.choose(y[:, None], waves) * rng.uniform(0.5, 1.5, (SIGNALS, 1))
    x += rng.normal(0, NOISE, x.shape)
    return x[..., None].astype(np.float32), y


class SignalNet(kt.HyperModel):
    """Conv1D blocks (optionally batch-normalised and pooled), then a softmax head."""

    def build(self, hp):
        inputs = keras.Input((STEPS, 1))
        h = inputs
        kernel = hp.Choice("kernel_size", [3, 5, 7])
        batch_norm = hp.Boolean("batch_norm")
        hp.Choice("pooling", ["max", "none"])
        with hp.conditional_scope("pooling", ["max"]):
            pool_size = hp.Int("pool_size", 2, 4)  # None when pooling is "none"
        hp.Int("blocks", 1, 3)
        for i in range(3):  # every hyperparameter declared on every build, active or not
            with hp.conditional_scope("blocks", list(range(i + 1, 4))):
                filters = hp.Int(f"filters_{i}", 8, 64, step=8)  # None past the last block
            if filters is None:
                continue
            h = keras.layers.Conv1D(filters, kernel, padding="same")(h)
            if batch_norm:
                h = keras.layers.BatchNormalization()(h)
            h = keras.layers.Activation("relu")(h)
            if pool_size:
                h = keras.layers.MaxPooling1D(pool_size, padding="same")(h)
        h = keras.layers.GlobalAveragePooling1D()(h)
        h = keras.layers.Dense(hp.Int("dense", 16, 64, step=16), activation="relu")(h)
        model = keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax")(h))
        lr = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
        model.compile(
            optimizer=keras.optimizers.Adam(lr),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model


task = hpo.Task(name="signals", data=make_signals, hypermodel=SignalNet(), objective="val_accuracy")
