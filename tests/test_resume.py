"""Kill a real `hpo run` at a moment hypothesis picks, run it again: nothing lost, nothing twice.

Each example starts `hpo run` (smoke profile) in a fresh process, waits until it
has finished `after` trials (0: until its search is about to start; all of them:
while it judges the best model and writes the record), waits `delay` seconds
more, sends SIGKILL or SIGINT, then runs the same command to the end. The final
record must equal the record of an uninterrupted run, apart from times and the
count of resumes: the same trials and epochs, each once, the same best
hyperparameters and test scores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hpo.experiment.profiles import get_profile
from hpo.experiment.results import CellResult
from hpo.run.cell import Cell, run_cell
from hpo.run.store import Outcome, run_saved_cell
from hpo.testing import Killed, counting_writes, made_up_record, reference_run
from hpo.testing.kills import WRITE_KINDS
from hpo.tuners import planned_budget
from tests.helpers import outside_xdist

pytestmark = pytest.mark.slow

TUNERS = ["hyperband", "bayesian"]  # the two with state beyond a list of trials
SEED = 2


def _command(tuner: str, out: Path) -> list[str]:
    return [
        *[sys.executable, "-m", "hpo", "run", "--tuner", tuner, "--seed", str(SEED)],
        *["--profile", "smoke", "--out", str(out)],
    ]


def _record(out: Path, tuner: str) -> CellResult:
    path = out / f"{tuner}-smoke-seed{SEED}.json"
    return CellResult.from_dict(json.loads(path.read_text()))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, CellResult]:
    out = tmp_path_factory.mktemp("uninterrupted")
    for tuner in TUNERS:
        subprocess.run(_command(tuner, out), check=True, capture_output=True, timeout=600)
    return {tuner: _record(out, tuner) for tuner in TUNERS}


def _run_and_kill(command: list[str], after: int, delay: float, sig: int) -> tuple[int, str]:
    """Start `command`, wait for `after` finished trials plus `delay` s, send `sig`."""
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    reached = threading.Event()
    lines: list[str] = []

    def watch() -> None:
        done = 0
        for line in proc.stderr:
            lines.append(line)
            done += " trial " in line and "/" in line
            if ("planned" in line and after == 0) or (after and done >= after):
                reached.set()
        reached.set()  # the process ended first

    threading.Thread(target=watch, daemon=True).start()
    reached.wait(timeout=300)
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(sig)
    code = proc.wait(timeout=300)
    time.sleep(0.2)  # let the reader take the last lines
    return code, "".join(lines)


@settings(
    max_examples=int(os.environ.get("HPO_KILL_EXAMPLES", "6")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking would rerun minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_killed_run_resumes_to_the_uninterrupted_record(uninterrupted, data):
    tuner = data.draw(st.sampled_from(TUNERS), label="tuner")
    trials = planned_budget(tuner, get_profile("smoke")).trials
    after = data.draw(st.integers(0, trials), label="trials finished before the kill")
    delay = data.draw(st.floats(0.0, 1.5), label="then seconds")
    sig = data.draw(st.sampled_from([signal.SIGKILL, signal.SIGINT]), label="signal")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        code, err = _run_and_kill(_command(tuner, out), after, delay, sig)
        # 130: hpo caught the SIGINT; -SIGINT: it came while Python was shutting down.
        exits = (0, -signal.SIGKILL, 130, -signal.SIGINT)
        assert code in exits, f"killed run exited with {code}: {err[-2000:]}"
        if sig == signal.SIGINT:  # no traceback; if caught, one line saying how to go on
            assert "Traceback" not in err
            assert code != 130 or "hpo: interrupted" in err
        again = subprocess.run(_command(tuner, out), capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stderr[-2000:]
        assert "Traceback" not in again.stderr
        resumed = _record(out, tuner)
        expected = uninterrupted[tuner]
        assert resumed.without_times() == expected.without_times()
        assert [h.trial_id for h in resumed.history] == [h.trial_id for h in expected.history]
        # Nothing left behind but the record (and the cell's lock file).
        assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
            f"{tuner}-smoke-seed{SEED}.json"
        ]
        assert not list(out.glob(".*.tmp"))


@pytest.fixture(scope="module")
def in_process_reference(tmp_path_factory):
    return {
        t: reference_run(Cell.of(t, SEED, "smoke"), tmp_path_factory.mktemp("cell")) for t in TUNERS
    }


@settings(
    max_examples=int(os.environ.get("HPO_WRITE_KILL_EXAMPLES", "12")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_kill_just_before_any_state_write_resumes_exactly(in_process_reference, data):
    """The moments between saved files, where a kill could leave them disagreeing."""
    tuner = data.draw(st.sampled_from(TUNERS), label="tuner")
    expected, counts = in_process_reference[tuner]
    kind = data.draw(st.sampled_from(sorted(WRITE_KINDS)), label="write")
    n = data.draw(st.integers(1, counts[kind]), label="killed before write number")
    with tempfile.TemporaryDirectory() as workdir:
        with pytest.raises(Killed), counting_writes(kill_at=(kind, n)):
            run_cell(Cell.of(tuner, SEED, "smoke"), workdir, resume=True)
        resumed = run_cell(Cell.of(tuner, SEED, "smoke"), workdir, resume=True)
    assert resumed.without_times() == expected.without_times()


def _processes_with(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (a session and everything it started)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_a_killed_benchmark_session_reuses_finished_cells_and_resumes_the_rest(tmp_path):
    json_path = tmp_path / "b.json"
    command = [
        *[sys.executable, "-m", "pytest", "benchmarks/test_search.py", "--hpo-profile", "smoke"],
        *["--hpo-seeds", "0-2", "--hpo-tuners", "random", "--benchmark-json", str(json_path)],
        "--hpo-verbose",  # trial lines: the test kills the session one trial into a cell
    ]  # pytest-xdist, one worker per core: the way users run it
    marker = f"HPO_TEST_SESSION={tmp_path.name}"
    env = {**outside_xdist(), "HPO_TEST_SESSION": tmp_path.name}
    cwd = Path(__file__).parents[1]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd
    )
    finished = False
    for line in proc.stdout:
        finished = finished or "smoke: test acc" in line
        if finished and "smoke: trial 1/3" in line:
            break  # one cell done, another one trial into its search
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    time.sleep(2)
    assert _processes_with(marker) == []  # its workers and their cells died with it
    cells = tmp_path / "b-cells"
    done_before = {p.name: p.read_bytes() for p in cells.glob("*.json")}
    assert done_before and list(cells.glob("*.work/*_tuning/hpo-history-tuner0.json"))

    again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)
    assert again.returncode == 0, again.stdout[-3000:]
    assert again.stdout.count("(reused)") == len(done_before)
    assert "(resumed)" in again.stdout
    for name, before in done_before.items():
        assert (cells / name).read_bytes() == before  # not run again
    merged = json.loads(json_path.read_text())
    records = [b["extra_info"]["cell"] for b in merged["benchmarks"]]
    assert sorted(r["seed"] for r in records) == [0, 1, 2]
    assert all((r["trials_completed"], r["epochs_trained"]) == (3, 9) for r in records)
    assert not list(cells.glob("*.work"))  # every project removed once its record was written


def test_a_kill_inside_the_records_write_leaves_nothing_once_the_cell_runs_again(tmp_path):
    """A SIGKILL between `write_json`'s temporary file and its rename leaves the temporary
    file beside the record; the next run of the cell removes it."""
    record_path = tmp_path / "random-smoke-seed0.json"
    torn = tmp_path / f".{record_path.name}.k1ll3d.tmp"
    torn.write_text('{"tuner": "ran')
    other = tmp_path / ".another-record.json.k1ll3d.tmp"  # another cell's: not this one's to remove
    other.write_text("")
    made_up = CellResult.from_dict(made_up_record())
    result, how = run_saved_cell(
        Cell.of("random", 0, "smoke"), record_path, search=lambda workdir: made_up
    )
    assert how == Outcome.RAN and result.without_times() == made_up.without_times()
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, record_path.name]


def test_a_ctrl_c_that_tensorflow_turns_into_another_error_stops_the_search(tmp_path):
    """Ctrl-C inside some of TensorFlow's callbacks into Python surfaces as SystemError; in a
    trial, Keras Tuner would count the trial failed and search on, and the record would hold
    a failure the uninterrupted run has not. Here the second trial's fit does what TensorFlow
    does: the handler counts the interrupt, and another error comes out."""
    from hpo.engines.keras_fit import QuickFit
    from hpo.experiment.model import build_model
    from hpo.run.runtime import counting_interrupts

    class InterruptedFit(QuickFit):
        fits = 0

        def fit(self, hp, model, *args, **kwargs):
            self.fits += 1
            if self.fits == 2:
                try:
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(5)
                except KeyboardInterrupt:
                    raise SystemError("bad argument to internal function") from None
            return super().fit(hp, model, *args, **kwargs)

    cell = Cell.of("random", SEED, "smoke")
    with pytest.raises(KeyboardInterrupt), counting_interrupts():
        run_cell(cell, tmp_path, hypermodel=InterruptedFit(build_model), resume=True)
    log = json.loads(next(tmp_path.glob("*_tuning/hpo-history-tuner0.json")).read_text())
    assert [h["status"] for h in log["history"]] == ["COMPLETED"]  # trial 2 not counted failed
