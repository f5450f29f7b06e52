"""BOHB (Falkner et al. 2018): Hyperband's brackets, new configurations from a TPE model.

Keras Tuner's Hyperband with the same max_epochs and factor as `hyperband`, so
both train the same bracket plan; only how a bracket's configurations are
chosen differs (`hpo.tuners._multifidelity.BOHBOracle`).
"""

from __future__ import annotations

from typing import Any

from hpo.tuners._spec import TunerContext
from hpo.tuners.hyperband import FACTOR, multifidelity_spec

RANDOM_FRACTION = 1 / 3  # BOHB's share of configurations still drawn at random
MIN_POINTS = 8  # results at one budget before TPE is used: BOHB's hyperparameters + 1 (7 + 1)


def make_oracle(ctx: TunerContext) -> Any:
    from hpo.tuners._multifidelity import BOHBOracle

    return BOHBOracle(
        objective=ctx.objective,
        max_epochs=ctx.epochs,
        factor=FACTOR,
        seed=ctx.seed,
        random_fraction=RANDOM_FRACTION,
        min_points=MIN_POINTS,
    )


SPEC = multifidelity_spec(
    "bohb",
    make_oracle,
    settings=lambda p: (
        f"max_epochs {p.epochs}, factor {FACTOR}, TPE after {MIN_POINTS} results"
        f" at a budget, 1/3 random"
    ),
)
