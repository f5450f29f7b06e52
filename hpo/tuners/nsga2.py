"""NSGA-II (Deb et al. 2002), Optuna's NSGAIISampler: accuracy against model size.

Multi-objective: it is told each trial's validation score and the model's size
(`hpo.analysis.pareto`). Its population is half the profile's trials (at least 2), so
the search sees at least two generations; the rest are Optuna's defaults.
"""

from __future__ import annotations

from typing import Any

from hpo.experiment.profiles import Profile
from hpo.tuners._optuna import optuna_spec
from hpo.tuners._sampler import SamplerSeeds


def population(profile: Profile) -> int:
    return max(2, profile.max_trials // 2)


def make_sampler(seeds: SamplerSeeds, profile: Profile) -> Any:
    import optuna

    return optuna.samplers.NSGAIISampler(population_size=population(profile), seed=seeds.trial)


SPEC = optuna_spec(
    "nsga2",
    make_sampler,
    settings=lambda p: (
        f"{p.max_trials} trials x {p.epochs} epochs, score and size, population {population(p)}"
    ),
    multi_objective=True,
)
