"""Progress: the session line's counts and ETA, status files, the trial lines."""

from __future__ import annotations

import io
import time

from hpo.experiment.records import TrialRecord, TrialStatus
from hpo.run.progress import SessionState, read_statuses, status_writer, trial_printer
from hpo.tuners import Budget


def _history(epochs):
    return [
        TrialRecord(str(i), TrialStatus.COMPLETED, e, 2.0 * (i + 1), score=0.9 + i / 100)
        for i, e in enumerate(epochs)
    ]


def test_the_eta_is_the_sessions_pace_over_the_epochs_left():
    state = SessionState(cells_total=4, epochs_total=400, started=time.monotonic() - 60)
    state.finish(100, reused=False)
    line = state.line()
    assert line.startswith("cells 1/4 · epochs 100/400 · 01:00")
    assert line.endswith("ETA 03:00")  # 100 epochs a minute, 300 to go


def test_reused_cells_count_as_done_but_not_as_pace():
    state = SessionState(cells_total=2, epochs_total=200, started=time.monotonic() - 10)
    state.finish(100, reused=True)
    assert "ETA" not in state.line()  # nothing trained yet this session: no pace to go by
    assert "epochs 150/200" in state.line(running_epochs=50)


def test_status_files_say_how_far_a_running_cell_is(tmp_path):
    write = status_writer(tmp_path / "c.json", "random seed=0 smoke", planned_epochs=9)
    write(_history([3, 3]))
    [status] = read_statuses(tmp_path)
    assert (status["label"], status["epochs"], status["planned_epochs"], status["trials"]) == (
        "random seed=0 smoke",
        6,
        9,
        2,
    )


def test_trial_lines_count_from_the_whole_log():
    out = io.StringIO()
    trial_printer("random seed=0 smoke", Budget(3, 9), stream=out)(_history([3, 3]))
    assert out.getvalue().startswith("random seed=0 smoke: trial 2/3  val_acc 0.910  best 0.910")


def test_trial_lines_in_a_log_carry_an_eta_from_the_epochs_still_planned():
    out = io.StringIO()
    history = _history([3, 3])  # 6 of 9 epochs done
    trial_printer("random seed=0 smoke", Budget(3, 9), stream=out)(history)
    elapsed = history[-1].elapsed_s
    expected = int(elapsed * 3 / 6)
    assert out.getvalue().rstrip().endswith(f"ETA {expected // 60:02d}:{expected % 60:02d}")
    out = io.StringIO()
    trial_printer("random seed=0 smoke", Budget(3, 9), stream=out)(_history([3, 3, 3]))
    assert "ETA" not in out.getvalue()  # done: nothing left to estimate
