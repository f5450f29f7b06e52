"""What hpo's own tests check, for your test suite too: conformance of tuners and tasks,
kills at any state write, hypothesis strategies over the search space, made-up records.

    # test_mytuners.py
    from hpo.testing import TunerConformance

    class TestMyTuner(TunerConformance):
        tuner = "mytuners:make_oracle"

Importing this package imports pytest, not TensorFlow; the checks import it when they run.
`configurations`, `check_task` and `declared_space` (`hpo.testing.spaces`) are loaded when
first used, so that importing this package needs no hypothesis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hpo.testing.conformance import TaskConformance, TunerConformance
from hpo.testing.kills import Killed, counting_writes, reference_run
from hpo.testing.records import made_up_record
from hpo.testing.tables import made_up_table

if TYPE_CHECKING:
    from hpo.testing.spaces import check_task, configurations, declared_space

__all__ = [
    "Killed",
    "TaskConformance",
    "TunerConformance",
    "check_task",
    "configurations",
    "counting_writes",
    "declared_space",
    "made_up_record",
    "made_up_table",
    "reference_run",
]

_LAZY = {name: "hpo.testing.spaces" for name in ("check_task", "configurations", "declared_space")}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
