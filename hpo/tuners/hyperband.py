"""Keras Tuner's Hyperband: brackets of successive halving over epochs (Li et al. 2018).

max_epochs is the profile's full-fidelity epochs, factor 3 (the seed report's).
"""

from __future__ import annotations

from typing import Any

from hpo.profiles import Profile
from hpo.tuners._spec import Budget, TunerContext, TunerSpec, dry_run, oracle_seed

FACTOR = 3


def make_oracle(ctx: TunerContext) -> Any:
    import keras_tuner as kt

    return kt.oracles.HyperbandOracle(
        objective=ctx.objective, max_epochs=ctx.epochs, factor=FACTOR, seed=ctx.seed
    )


def runner() -> type:
    """Keras Tuner's Hyperband tuner around a given oracle: it sets each trial's epochs
    and loads the parent trial's weights in later rounds."""
    import keras_tuner as kt

    class HyperbandRunner(kt.Hyperband):
        def __init__(self, oracle: Any, **kwargs: Any) -> None:
            kt.Tuner.__init__(self, oracle=oracle, **kwargs)  # not Hyperband's: it builds one

    return HyperbandRunner


def plan(profile: Profile) -> Budget:
    """Dry-run Keras Tuner's own HyperbandOracle: its brackets, not a formula of ours."""
    return dry_run(make_oracle(TunerContext(oracle_seed(0), profile, "val_accuracy")))


SPEC = TunerSpec(
    name="hyperband",
    make_oracle=make_oracle,
    runner=runner,
    plan=plan,
    trials_fixed=False,
    settings=lambda p: f"max_epochs {p.epochs}, factor {FACTOR}",
)
