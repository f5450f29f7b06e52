"""What hpo's own tests check, for your test suite too: conformance of tuners and tasks,
kills at any state write, hypothesis strategies over the search space, made-up records.

    # test_mytuners.py
    from hpo.testing import TunerConformance

    class TestMyTuner(TunerConformance):
        tuner = "mytuners:make_oracle"

Importing this package imports pytest, not TensorFlow; the checks import it when they run.
"""

from hpo.testing.conformance import TaskConformance, TunerConformance
from hpo.testing.kills import Killed, counting_writes, reference_run
from hpo.testing.records import made_up_record

__all__ = [
    "Killed",
    "TaskConformance",
    "TunerConformance",
    "counting_writes",
    "made_up_record",
    "reference_run",
]
