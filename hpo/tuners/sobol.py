"""Optuna's quasi-Monte Carlo sampler: a scrambled Sobol sequence, the evener random baseline.

The sequence covers the space of the first trial (asked at random); values it
does not cover (units of layers that trial did not have) are asked at random.
"""

from __future__ import annotations

from typing import Any

from hpo.tuners._optuna import optuna_spec
from hpo.tuners._sampler import SamplerSeeds


def make_sampler(seeds: SamplerSeeds, profile: Any) -> Any:
    import optuna

    return optuna.samplers.QMCSampler(
        qmc_type="sobol",
        scramble=True,
        seed=seeds.cell,  # one scrambled sequence per cell: its position is in the study
        independent_sampler=optuna.samplers.RandomSampler(seed=seeds.trial),
        warn_independent_sampling=False,
        warn_asynchronous_seeding=False,
    )


SPEC = optuna_spec("sobol", make_sampler)
