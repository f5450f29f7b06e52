"""Multi-objective TPE (Ozaki et al. 2020), Optuna's TPESampler on two objectives.

It is told each trial's validation score and the model's size (`hpo.analysis.pareto`),
and starts from as many random trials as `bayesian` does on the same profile:
the same sampler as `tpe`, given two objectives instead of one.
"""

from __future__ import annotations

from hpo.tuners._optuna import optuna_spec
from hpo.tuners.bayesian import initial_points
from hpo.tuners.tpe import make_sampler

SPEC = optuna_spec(
    "motpe",
    make_sampler,
    settings=lambda p: (
        f"{p.max_trials} trials x {p.epochs} epochs, score and size,"
        f" {initial_points(p)} random first"
    ),
    multi_objective=True,
)
