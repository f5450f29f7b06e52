"""Tuners whose trials an Optuna sampler decides: `optuna_spec`.

The oracle itself (`hpo.tuners._optuna_oracle`) imports Keras Tuner, so it is
loaded only when a cell builds its tuner, not when a tuner name is resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpo.experiment.profiles import Profile
from hpo.tuners._sampler import SamplerFactory
from hpo.tuners._spec import TunerContext, TunerSpec


def optuna_spec(
    name: str,
    sampler: SamplerFactory,
    settings: Callable[[Profile], str] | None = None,
    multi_objective: bool = False,
) -> TunerSpec:
    """A full-fidelity tuner (max_trials x epochs) whose trials `sampler` decides; with
    `multi_objective`, on the validation score and the model's size (hpo.analysis.pareto)."""

    def make_oracle(ctx: TunerContext) -> Any:
        from hpo.tuners._optuna_oracle import OptunaOracle

        return OptunaOracle(
            objective=ctx.objective,
            max_trials=ctx.max_trials,
            sampler=sampler,
            profile=ctx.profile,
            seed=ctx.seed,
            sizes_for=ctx.task if multi_objective else None,
        )

    return TunerSpec(name=name, make_oracle=make_oracle, settings=settings)
