"""Helpers several test modules share (the ones users may want are in hpo.testing)."""

from __future__ import annotations

import os

import numpy as np

from hpo.engines.keras_fit import QuickFit
from hpo.experiment.model import build_model


def error_lines(stderr: str) -> list[str]:
    """stderr without argparse's usage lines (printed before its error): the error itself."""
    lines = stderr.strip().splitlines()
    return [
        line for line in lines if not line.startswith("usage:") and not line.startswith(" ")
    ]  # fmt: skip


def outside_xdist() -> dict[str, str]:
    """This environment minus pytest-xdist's worker variables (a nested session's own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}


class FaultyFit(QuickFit):
    """QuickFit whose fit number n goes wrong when `bad(n)` says so (how: `spoil`)."""

    def __init__(self, bad) -> None:
        super().__init__(build_model)
        self.bad = bad
        self.fits = 0

    def fit(self, hp, model, x, y, **kwargs):
        self.fits += 1
        if self.bad(self.fits):
            y = self.spoil(y)
        return super().fit(hp, model, x, y, **kwargs)


class Diverging(FaultyFit):
    """Trains on labels poisoned with NaN: the loss really is NaN."""

    def spoil(self, y):
        return np.full_like(np.asarray(y, dtype="float32"), np.nan)


class Raising(FaultyFit):
    def spoil(self, y):
        raise ValueError(f"fit number {self.fits} refuses to train")


def trials_every(scores: list[float], second: float) -> list[dict]:
    """A made-up history: one-epoch trials of these scores, one ending every `second` seconds."""
    return [
        {"trial_id": str(i), "status": "COMPLETED", "val_accuracy": v, "epochs": 1,
         "elapsed_s": second * (i + 1), "params": 100}
        for i, v in enumerate(scores)
    ]  # fmt: skip
