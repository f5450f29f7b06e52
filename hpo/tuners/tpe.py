"""Optuna's tree-structured Parzen estimator (Bergstra et al. 2011), its default settings.

It starts from as many random trials as `bayesian` does on the same profile. With several
workers (`--workers K`) it knows about pending trials: trials still running on other workers
count as bad when the next is proposed (Optuna's constant liar, its default since Optuna 5,
written out here so that a change of default cannot change the tuner silently).
"""

from __future__ import annotations

from typing import Any

from hpo.experiment.profiles import Profile
from hpo.tuners._optuna import optuna_spec
from hpo.tuners._sampler import SamplerSeeds
from hpo.tuners.bayesian import initial_points


def make_sampler(seeds: SamplerSeeds, profile: Profile) -> Any:
    import optuna

    return optuna.samplers.TPESampler(
        n_startup_trials=initial_points(profile), seed=seeds.trial, constant_liar=True
    )


SPEC = optuna_spec(
    "tpe",
    make_sampler,
    settings=lambda p: (
        f"{p.max_trials} trials x {p.epochs} epochs, {initial_points(p)} random first"
    ),
)
