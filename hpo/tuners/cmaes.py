"""Optuna's CMA-ES sampler (Hansen 2016), via the `cmaes` package.

CMA-ES moves a Gaussian over the numeric values every trial has: the number of
layers, the first layer's units and the dropout (integers are searched as
rounded reals). The activation and learning rate are categorical, and the units
of a second or third layer exist only in some trials; Optuna asks those at
random. Its state (the mean, covariance and step size) is stored in the study.
"""

from __future__ import annotations

from typing import Any

from hpo.experiment.profiles import Profile
from hpo.tuners._optuna import optuna_spec
from hpo.tuners._sampler import SamplerSeeds


def make_sampler(seeds: SamplerSeeds, profile: Profile) -> Any:
    import optuna

    return optuna.samplers.CmaEsSampler(
        seed=seeds.trial,
        independent_sampler=optuna.samplers.RandomSampler(seed=seeds.trial),
        warn_independent_sampling=False,
    )


SPEC = optuna_spec("cmaes", make_sampler)
