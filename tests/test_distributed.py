"""Keras Tuner's distributed mode, started and stopped by hpo: chief + workers on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from hpo.cli import main
from hpo.errors import HpoError
from hpo.experiment.profiles import get_profile
from hpo.parallel.distributed import run_distributed
from hpo.run.cell import Cell
from hpo.tuners import planned_budget

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("tuner", ["hyperband", "random"])
def test_two_workers_share_one_search_and_train_its_whole_budget(tuner, tmp_path):
    result = run_distributed(Cell.of(tuner, 0, "smoke"), workers=2, workdir=tmp_path)
    budget = planned_budget(tuner, get_profile("smoke"))
    assert result.workers == 2
    assert result.trials_failed == 0
    assert (result.trials_completed, result.epochs_trained) == (budget.trials, budget.epochs)
    ids = [h.trial_id for h in result.history]
    assert len(ids) == len(set(ids)) == budget.trials  # each trial ran once, on one worker
    assert 0.5 < result.test_accuracy <= 1.0
    assert len(list(tmp_path.glob("*_tuning/hpo-history-tuner*.json"))) == 2  # a log per worker
    assert result.faults == []


def _kill_a_worker_after_its_first_trial(workdir: Path) -> threading.Thread:
    """In the background: when worker tuner1 has logged a trial, SIGKILL it (mid-next-trial)."""

    def kill() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if list(workdir.glob("*_tuning/hpo-history-tuner1.json")):
                time.sleep(0.3)
                for pid in _worker_pids(workdir, "tuner1"):
                    os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def _worker_pids(workdir: Path, tuner_id: str) -> list[int]:
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            b"hpo.distributed" in cmdline
            and b"worker" in cmdline
            and str(workdir).encode() in cmdline
            and f"KERASTUNER_TUNER_ID={tuner_id}".encode() in environ
        ):
            pids.append(int(proc.name))
    return pids


def test_a_killed_worker_is_restarted_and_no_trial_is_lost(tmp_path):
    killer = _kill_a_worker_after_its_first_trial(tmp_path)
    result = run_distributed(Cell.of("hyperband", 0, "smoke"), workers=2, workdir=tmp_path)
    killer.join()
    budget = planned_budget("hyperband", get_profile("smoke"))
    assert [(f.worker, f.exit_code, f.action) for f in result.faults] == [
        ("tuner1", -signal.SIGKILL, "restarted")
    ]
    ids = [h.trial_id for h in result.history]
    assert len(ids) == len(set(ids)) == budget.trials  # the killed trial ran again, once
    assert (result.trials_completed, result.epochs_trained) == (budget.trials, budget.epochs)


def test_a_worker_that_keeps_dying_stops_the_search_with_one_line(tmp_path):
    killer = _kill_a_worker_after_its_first_trial(tmp_path)
    started = time.monotonic()
    with pytest.raises(HpoError) as stopped:
        run_distributed(
            Cell.of("hyperband", 0, "smoke"), workers=2, workdir=tmp_path, max_restarts=0
        )
    killer.join()
    message = str(stopped.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(
        "worker tuner1 died 1 time(s) (last exit code -9); the search is stopped"
    )
    assert time.monotonic() - started < 240  # no waiting for a trial that will never end
    assert not _worker_pids(tmp_path, "tuner0") and not _worker_pids(tmp_path, "tuner1")


def test_cli_refuses_zero_workers(capsys):
    assert main(["run", "--tuner", "random", "--seed", "0", "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--workers" in err
