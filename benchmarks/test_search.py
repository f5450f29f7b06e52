"""One real search per task x tuner x seed, timed by pytest-benchmark.

pytest benchmarks --hpo-profile smoke --hpo-seeds 0-2 --hpo-tuners hyperband,random
pytest benchmarks --hpo-tasks wine,diabetes --hpo-profile quick --hpo-seeds 0-4
"""

from __future__ import annotations

import pytest

from hpo.errors import CellStopped
from hpo.run.cell import Cell
from hpo.run.store import Outcome, RunOptions


def test_search(
    benchmark,
    hpo_task,
    hpo_tuner,
    hpo_seed,
    hpo_profile,
    hpo_engine,
    hpo_records,
    hpo_stopped,
    hpo_calibration,
    hpo_threads,
    hpo_cells_dir,
    hpo_uncaptured,
    hpo_track,
    hpo_reporting,
    hpo_run_cell,
    request,
    pytestconfig,
):
    cell = Cell.of(hpo_tuner, hpo_seed, hpo_profile, hpo_task, hpo_engine)
    budget = cell.budget
    benchmark.group = f"search ({hpo_profile})"

    def search():
        # A fresh process per cell (memory does not carry over from earlier cells), here or
        # on the --hpo-cluster's workers. Its
        # record is saved in hpo_cells_dir: an interrupted session, run again, reuses
        # finished cells and resumes the one that was running; the cell's project
        # (checkpoints) is removed once its record is written.
        with hpo_uncaptured():
            return hpo_run_cell(
                cell,
                record_path=hpo_cells_dir / f"{cell.name}.json",
                options=RunOptions(
                    force=pytestconfig.getoption("hpo_force"), calibration_s=hpo_calibration
                ),
                threads=hpo_threads,
                reporting=hpo_reporting(cell),
            )

    def search_or_stop():
        try:
            return search()
        except CellStopped as e:  # recorded below, so the report can say why a seed is missing
            return None, str(e)

    # A reused record keeps the calibration of the session that ran it.
    result, how = benchmark.pedantic(search_or_stop, rounds=1, iterations=1)
    if result is None:
        benchmark.extra_info["stopped"] = {
            "tuner": cell.tuner,
            "seed": cell.seed,
            "profile": cell.profile.name,
            "task": cell.task.name,
            "reason": how,
        }
        hpo_stopped.append(benchmark.extra_info["stopped"])
        pytest.fail(how, pytrace=False)
    benchmark.extra_info.update(
        how=how.value,  # ran, resumed or reused (then pytest-benchmark timed the reuse)
        tuner=cell.tuner,
        seed=cell.seed,
        profile=cell.profile.name,
        task=cell.task.name,
        best_val_accuracy=result.best_val_accuracy,
        test_accuracy=result.test_accuracy,
        test_r2=result.test_r2,
        test_loss=result.test_loss,
        epochs_trained=result.epochs_trained,
        trials_completed=result.trials_completed,
        peak_rss_mb=result.peak_rss_mb,
        cell=result.to_dict(),
    )
    hpo_records.append(result)
    if how != Outcome.REUSED:  # a reused record was logged by the session that ran it
        hpo_track(result)
    request.node.user_properties.append(("hpo_cell_epochs", result.epochs_trained))
    request.node.user_properties.append(("hpo_cell_how", how.value))
    request.node.user_properties.append(
        (
            "hpo_cell_line",
            f"{cell.label}: test {'R²' if result.test_accuracy is None else 'acc'}"
            f" {result.test_score:.4f}, {result.trials_completed} trials,"
            f" {result.epochs_trained} epochs, {result.wall_time_s:.0f} s,"
            f" peak {result.peak_rss_mb:.0f} MiB" + ("" if how == Outcome.RAN else f" ({how})"),
        )
    )
    # The search ran the budget its oracle planned: nothing was skipped. A failed trial
    # (diverged, raised) is counted, with its reason in the history, and trains less.
    failed = [
        f"trial {h['trial_id']}: {h.get('error')}"
        for h in result.history
        if h["status"] != "COMPLETED"
    ]
    if not failed:
        assert (result.trials_completed, result.epochs_trained) == (budget.trials, budget.epochs)
    else:
        assert result.epochs_trained <= budget.epochs, failed
        if cell.spec.trials_fixed:  # not Hyperband: it promotes completed trials
            assert result.trials_completed + result.trials_failed == budget.trials, failed
