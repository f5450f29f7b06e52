"""Keras Tuner's Bayesian optimisation: a GP with an upper-confidence-bound acquisition.

Its oracle is `hpo.tuners._fastgp.QuickBayesianOracle`: Keras Tuner's, with a faster,
bit-identical acquisition search and its random generator saved for resume.
"""

from __future__ import annotations

from typing import Any

from hpo.experiment.profiles import Profile
from hpo.tuners._spec import TunerContext, TunerSpec

# Random trials before the GP is used, per profile (the seed report's 5 at 25 trials).
# Optuna's model-based samplers get the same number of random start-up trials.
INITIAL_POINTS = {"paper": 5, "quick": 3, "smoke": 2}


def initial_points(profile: Profile) -> int:
    return INITIAL_POINTS.get(profile.name, max(2, profile.max_trials // 5))


def make_oracle(ctx: TunerContext) -> Any:
    from hpo.tuners._fastgp import QuickBayesianOracle

    return QuickBayesianOracle(
        objective=ctx.objective,
        max_trials=ctx.max_trials,
        num_initial_points=initial_points(ctx.profile),
        seed=ctx.seed,
    )


SPEC = TunerSpec(
    name="bayesian",
    make_oracle=make_oracle,
    settings=lambda p: (
        f"{p.max_trials} trials x {p.epochs} epochs, {initial_points(p)} initial points"
    ),
)
