"""Multi-objective TPE (Ozaki et al. 2020), Optuna's TPESampler on two objectives.

It is told each trial's validation score and the model's size (`hpo.pareto`),
and starts from as many random trials as `bayesian` does on the same profile.
"""

from __future__ import annotations

from typing import Any

from hpo.profiles import Profile
from hpo.tuners._optuna import SamplerSeeds, optuna_spec
from hpo.tuners.bayesian import initial_points


def make_sampler(seeds: SamplerSeeds, profile: Profile) -> Any:
    import optuna

    return optuna.samplers.TPESampler(n_startup_trials=initial_points(profile), seed=seeds.trial)


SPEC = optuna_spec(
    "motpe",
    make_sampler,
    settings=lambda p: (
        f"{p.max_trials} trials x {p.epochs} epochs, score and size,"
        f" {initial_points(p)} random first"
    ),
    multi_objective=True,
)
