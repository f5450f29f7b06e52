"""Tuners by name: the built-in ones, installed ones, and `MODULE:ATTR` factories.

A tuner is a `TunerSpec`: a factory of Keras Tuner `Oracle`s (which decide the
trials) plus, where the oracle needs it, the Keras Tuner class that runs them.
Each built-in tuner is one module here; none of hpo's other code names one.
Importing this package does not import TensorFlow.
"""

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
    "oracle_seed",
    "parse_tuners",
    "planned_budget",
    "TrialSeeds",
    "trial_seed",
    "tuner_names",
]
