"""Optuna's Gaussian-process Bayesian optimisation: a second GP-BO beside Keras Tuner's.

Optuna's GP runs on PyTorch, which hpo installs only with the `gp` extra. It
starts from as many random trials as `bayesian` does on the same profile. Like
CMA-ES it models the values every trial has; the units of a second or third
layer are asked at random.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hpo.experiment.profiles import Profile
from hpo.tuners._optuna import optuna_spec
from hpo.tuners._sampler import SamplerSeeds
from hpo.tuners.bayesian import initial_points


def make_sampler(seeds: SamplerSeeds, profile: Profile) -> Any:
    import optuna

    return optuna.samplers.GPSampler(
        n_startup_trials=initial_points(profile),
        seed=seeds.trial,
        independent_sampler=optuna.samplers.RandomSampler(seed=seeds.trial),
        warn_independent_sampling=False,  # units of absent layers: asked at random (docs/tuners.md)
    )


SPEC = dataclasses.replace(
    optuna_spec(
        "gp",
        make_sampler,
        settings=lambda p: (
            f"{p.max_trials} trials x {p.epochs} epochs, {initial_points(p)} random first"
        ),
    ),
    requires=("torch", "pip install 'keras-hpo-bench[gp]'"),
)
