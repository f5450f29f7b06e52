"""Tuners by name: the built-in ones, installed ones, and `MODULE:ATTR` factories.

A tuner is a `TunerSpec`: a factory of Keras Tuner `Oracle`s (which decide the
trials) plus, where the oracle needs it, the Keras Tuner class that runs them.
Each built-in tuner is one module here; none of hpo's other code names one.
`optuna_spec(name, sampler)` makes any Optuna sampler a tuner, through the same
adapter as the built-in Optuna tuners. Importing this package does not import
TensorFlow.
"""

from hpo.tuners._optuna import optuna_spec
from hpo.tuners._sampler import SamplerSeeds
from hpo.tuners._spec import (
    Budget,
    TrialSeeds,
    TunerContext,
    TunerSpec,
    budget_texts,
    dry_run,
    get_tuner,
    oracle_seed,
    parse_tuners,
    planned_budget,
    trial_seed,
    tuner_names,
)

__all__ = [
    "Budget",
    "TunerContext",
    "TunerSpec",
    "budget_texts",
    "dry_run",
    "get_tuner",
    "optuna_spec",
    "oracle_seed",
    "parse_tuners",
    "planned_budget",
    "SamplerSeeds",
    "TrialSeeds",
    "trial_seed",
    "tuner_names",
]
