"""What an Optuna-backed tuner gives its sampler: the seeds of one trial, and the factory type.

Shared by the tuner specs (`hpo.tuners._optuna`, light) and the oracle that asks the
sampler (`hpo.tuners._optuna_oracle`, which imports Keras Tuner).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hpo.experiment.profiles import Profile


@dataclass(frozen=True)
class SamplerSeeds:
    """Seeds for one trial's sampler: `cell` is the same for every trial of a cell (for a
    sampler whose sequence must not restart, such as QMC's scrambling); `trial` differs."""

    cell: int
    trial: int


SamplerFactory = Callable[[SamplerSeeds, Profile], Any]  # -> optuna.samplers.BaseSampler
