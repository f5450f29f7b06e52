"""Keras Tuner's random search: the baseline every tuner must beat."""

from __future__ import annotations

from typing import Any

from hpo.tuners._spec import TunerContext, TunerSpec


def make_oracle(ctx: TunerContext) -> Any:
    import keras_tuner as kt

    return kt.oracles.RandomSearchOracle(
        objective=ctx.objective, max_trials=ctx.max_trials, seed=ctx.seed
    )


SPEC = TunerSpec(name="random", make_oracle=make_oracle)
