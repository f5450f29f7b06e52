"""hpo: honest, reproducible benchmarks of hyperparameter optimisers for Keras models.

The Python API, for notebooks and scripts (imported on first use, so `import hpo`
does not import TensorFlow):

    import hpo
    record = hpo.run_cell(hpo.Cell.of("random", seed=0, profile="smoke"))
    results = hpo.load_results(["results/benchmarks-smoke.json"])
    summary = hpo.write_report(results, "report/")
    verdicts = hpo.compare(baseline_results, candidate_results)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hpo.errors import CellStopped, HpoError
from hpo.profiles import Cell, Profile, get_profile

if TYPE_CHECKING:
    from hpo.cell import run_cell
    from hpo.compare import compare
    from hpo.report import write_report
    from hpo.results import CellResult, Results, load_results
    from hpo.tasks import Task, get_task
    from hpo.tuners import TunerContext, TunerSpec, get_tuner

__all__ = [
    "Cell",
    "CellResult",
    "CellStopped",
    "HpoError",
    "Profile",
    "Results",
    "Task",
    "TunerContext",
    "TunerSpec",
    "compare",
    "get_profile",
    "get_task",
    "get_tuner",
    "load_results",
    "run_cell",
    "write_report",
]
__version__ = "0.2.0"

_LAZY = {
    "run_cell": "hpo.cell",
    "compare": "hpo.compare",
    "write_report": "hpo.report",
    "CellResult": "hpo.results",
    "Results": "hpo.results",
    "load_results": "hpo.results",
    "Task": "hpo.tasks",
    "get_task": "hpo.tasks",
    "TunerContext": "hpo.tuners",
    "TunerSpec": "hpo.tuners",
    "get_tuner": "hpo.tuners",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hpo' has no attribute {name!r}")
