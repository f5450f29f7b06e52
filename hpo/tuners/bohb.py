"""BOHB (Falkner et al. 2018): Hyperband's brackets, new configurations from a TPE model.

Keras Tuner's Hyperband with the same max_epochs and factor as `hyperband`, so
both train the same bracket plan; only how a bracket's configurations are
chosen differs (`hpo.tuners._multifidelity.BOHBOracle`).
"""

from __future__ import annotations

from typing import Any

from hpo.profiles import Profile
from hpo.tuners._spec import Budget, TunerContext, TunerSpec, dry_run, oracle_seed
from hpo.tuners.hyperband import FACTOR, runner

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


def plan(profile: Profile) -> Budget:
    return dry_run(make_oracle(TunerContext(oracle_seed(0), profile, "val_accuracy")))


SPEC = TunerSpec(
    name="bohb",
    make_oracle=make_oracle,
    runner=runner,
    plan=plan,
    trials_fixed=False,
    settings=lambda p: (
        f"max_epochs {p.epochs}, factor {FACTOR}, TPE after {MIN_POINTS} results"
        f" at a budget, 1/3 random"
    ),
)
