"""The seed report's recommendation, measured: Hyperband to explore, then Bayesian to refine.

Within `bayesian`'s epoch budget (max_trials x epochs): Hyperband's most
exploratory brackets (max_epochs and factor as `hyperband`) while they fit in
half of it, then full-epoch trials chosen by `bayesian`'s GP, fitted on every
exploration result, for the rest (`hpo.tuners._multifidelity`).
"""

from __future__ import annotations

from typing import Any

from hpo.experiment.profiles import Profile
from hpo.tuners._brackets import hybrid_plan
from hpo.tuners._spec import Budget, TunerContext
from hpo.tuners.hyperband import FACTOR, multifidelity_spec

EXPLORATION = 0.5  # the share of the budget Hyperband may spend, in whole brackets


def make_oracle(ctx: TunerContext) -> Any:
    from hpo.tuners._multifidelity import HyperbandBayesianOracle

    return HyperbandBayesianOracle(
        objective=ctx.objective,
        max_epochs=ctx.epochs,
        factor=FACTOR,
        budget_epochs=ctx.max_trials * ctx.epochs,
        seed=ctx.seed,
        exploration=EXPLORATION,
    )


def plan(profile: Profile) -> Budget:
    """From Keras Tuner's bracket arithmetic (`hpo.tuners._brackets`), not a dry run: a dry
    run would fit the GP to made-up scores, for nothing. A test checks both agree."""
    return hybrid_plan(profile.epochs, FACTOR, profile.max_trials * profile.epochs, EXPLORATION)


SPEC = multifidelity_spec(
    "hyperband-bayesian",
    make_oracle,
    plan=plan,
    settings=lambda p: (
        f"Hyperband (max_epochs {p.epochs}, factor {FACTOR}) in at most half of"
        f" {p.max_trials * p.epochs} epochs, then GP trials of {p.epochs} epochs"
    ),
)
