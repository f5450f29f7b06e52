"""One real search per task x tuner x seed, timed by pytest-benchmark.

pytest benchmarks --hpo-profile smoke --hpo-seeds 0-2 --hpo-tuners hyperband,random
pytest benchmarks --hpo-tasks wine,diabetes --hpo-profile quick --hpo-seeds 0-4

`hpo_cell` runs the cell where the session runs cells (a fresh process, the Dask
cluster, or a table's replay), keeps its record beside the benchmark JSON (an
interrupted session, run again, reuses finished cells and resumes the running one),
and records it; the test checks that the search trained the budget its oracle planned.
"""

from __future__ import annotations

from hpo.run.cell import Cell


def test_search(hpo_cell, hpo_task, hpo_tuner, hpo_seed, hpo_profile, hpo_engine):
    record = hpo_cell(hpo_tuner, hpo_seed, hpo_task)
    cell = Cell.of(hpo_tuner, hpo_seed, hpo_profile, hpo_task, hpo_engine)
    budget = cell.budget
    # A failed trial (diverged, raised) is counted, with its reason in the history, and
    # trains less; otherwise the search ran exactly the budget its oracle planned.
    failed = [f"trial {h.trial_id}: {h.error}" for h in record.history if not h.completed]
    if not failed:
        assert (record.trials_completed, record.epochs_trained) == (budget.trials, budget.epochs)
    else:
        assert record.epochs_trained <= budget.epochs, failed
        if cell.spec.trials_fixed:  # not Hyperband: it promotes completed trials
            assert record.trials_completed + record.trials_failed == budget.trials, failed
