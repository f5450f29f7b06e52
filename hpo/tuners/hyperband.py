"""Keras Tuner's Hyperband: brackets of successive halving over epochs (Li et al. 2018).

max_epochs is the profile's full-fidelity epochs, factor 3 (the seed report's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpo.experiment.profiles import Profile
from hpo.tuners._brackets import hyperband_plan
from hpo.tuners._spec import Budget, TunerContext, TunerSpec

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


def multifidelity_spec(
    name: str,
    make_oracle: Callable[[TunerContext], Any],
    settings: Callable[[Profile], str],
    plan: Callable[[Profile], Budget] | None = None,
) -> TunerSpec:
    """A tuner run by Keras Tuner's Hyperband tuner class (`runner`): Hyperband and its
    variants. Its plan is by default Keras Tuner's bracket arithmetic for the profile's epochs
    and factor 3 (`hpo.tuners._brackets`; a test checks it against a dry run of the oracle)."""

    def bracket_plan(profile: Profile) -> Budget:
        return hyperband_plan(profile.epochs, FACTOR)

    return TunerSpec(
        name=name,
        make_oracle=make_oracle,
        runner=runner,
        plan=plan or bracket_plan,
        trials_fixed=False,  # a failed trial is not promoted: fewer trials than planned
        settings=settings,
    )


SPEC = multifidelity_spec(
    "hyperband", make_oracle, settings=lambda p: f"max_epochs {p.epochs}, factor {FACTOR}"
)
