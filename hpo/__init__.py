"""hpo: honest, reproducible benchmarks of hyperparameter optimisers for Keras models.

The Python API, for notebooks and scripts (imported on first use, so `import hpo`
does not import TensorFlow):

    import hpo
    record = hpo.run_cell(hpo.Cell.of("random", seed=0, profile="smoke"))
    results = hpo.load_results(["results/benchmarks-smoke.json"])
    summary = hpo.write_report(results, "report/")
    verdicts = hpo.compare(baseline_results, candidate_results)
    task = hpo.Task(name="signals", data=load, hypermodel=build_model)   # your model, your data
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hpo.errors import CellStopped, HpoError
from hpo.experiment.profiles import Profile, get_profile

if TYPE_CHECKING:
    from hpo.analysis.compare import compare
    from hpo.analysis.report import write_report
    from hpo.experiment.results import CellResult, Results, load_results
    from hpo.experiment.tasks import FixedSplits, Task, get_task
    from hpo.run.cell import Cell, run_cell
    from hpo.tuners import SamplerSeeds, TunerContext, TunerSpec, get_tuner, optuna_spec

__all__ = [
    "Cell",
    "CellResult",
    "CellStopped",
    "FixedSplits",
    "HpoError",
    "Profile",
    "Results",
    "SamplerSeeds",
    "Task",
    "TunerContext",
    "TunerSpec",
    "compare",
    "get_profile",
    "get_task",
    "get_tuner",
    "load_results",
    "optuna_spec",
    "run_cell",
    "write_report",
]
__version__ = "0.2.0"

_LAZY = {
    "Cell": "hpo.run.cell",
    "run_cell": "hpo.run.cell",
    "compare": "hpo.analysis.compare",
    "write_report": "hpo.analysis.report",
    "CellResult": "hpo.experiment.results",
    "Results": "hpo.experiment.results",
    "load_results": "hpo.experiment.results",
    "Task": "hpo.experiment.tasks",
    "FixedSplits": "hpo.experiment.tasks",
    "get_task": "hpo.experiment.tasks",
    "TunerContext": "hpo.tuners",
    "TunerSpec": "hpo.tuners",
    "get_tuner": "hpo.tuners",
    "optuna_spec": "hpo.tuners",
    "SamplerSeeds": "hpo.tuners",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hpo' has no attribute {name!r}")
