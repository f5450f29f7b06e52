"""The command line: a real smoke run, and bad input as one line with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hpo.cli import main
from hpo.testing.records import made_up_record
from hpo.tuners import tuner_names
from tests.helpers import error_lines


def test_run_writes_the_record_and_a_summary(tmp_path, capsys):
    out = tmp_path / "work"
    rc = main(["run", "--tuner", "random", "--seed", "3", "--profile", "smoke", "--out", str(out)])
    assert rc == 0
    record = json.loads((out / "random-smoke-seed3.json").read_text())
    assert (record["tuner"], record["seed"], record["profile"]) == ("random", 3, "smoke")
    captured = capsys.readouterr()
    assert "test acc" in captured.out and "wrote" in captured.out
    assert "trial 3/3" in captured.err  # progress, one line per trial
    # Keras Tuner's project (checkpoints) is removed once the record is written.
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "random-smoke-seed3.json"
    ]
    # The same command again reuses the record instead of searching again.
    before = (out / "random-smoke-seed3.json").read_text()
    assert (
        main(["run", "--tuner", "random", "--seed", "3", "--profile", "smoke", "--out", str(out)])
        == 0
    )
    captured = capsys.readouterr()
    assert "already done" in captured.out and "trial" not in captured.err
    assert (out / "random-smoke-seed3.json").read_text() == before


def test_keep_keeps_the_project_and_force_runs_anew(tmp_path, capsys):
    args = ["run", "--tuner", "random", "--seed", "1", "--profile", "smoke", "--out", str(tmp_path)]
    assert main([*args, "--keep"]) == 0
    assert (tmp_path / "random-smoke-seed1.work" / "random_tuning" / "oracle.json").is_file()
    first = json.loads((tmp_path / "random-smoke-seed1.json").read_text())
    capsys.readouterr()
    assert main([*args, "--force"]) == 0
    captured = capsys.readouterr()
    assert "trial 3/3" in captured.err and "already done" not in captured.out
    assert not (tmp_path / "random-smoke-seed1.work").exists()
    again = json.loads((tmp_path / "random-smoke-seed1.json").read_text())
    assert again["history"] != [] and again["test_accuracy"] == first["test_accuracy"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tuner", "smac", "--seed", "0"], "unknown tuner 'smac'"),
        (["--tuner", "random", "--seed", "-3"], "seed must be between"),
        (["--tuner", "random", "--seed", "abc"], "seed must be an integer"),
        (["--tuner", "random", "--seed", "0", "--profile", "huge"], "invalid choice: 'huge'"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        rc = main(["run", *args])
        raise SystemExit(rc)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(error_lines(err)) == 1


def test_a_replay_naming_another_task_than_its_tables_is_one_line_exit_2(tmp_path, capsys):
    table = Path(__file__).parents[1] / "tables" / "signals-quick.npz"
    args = ["--replay", str(table), "--task", "mnist1d", "--tuner", "random", "--seed", "0"]
    rc = main(["run", *args, "--out", str(tmp_path / "out")])
    assert rc == 2
    [line] = error_lines(capsys.readouterr().err)
    assert "--task mnist1d: the table" in line and "is of task examples.signals:task" in line
    assert not (tmp_path / "out").exists()  # nothing written


def test_unwritable_json_fails_before_searching(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    rc = main(
        ["run", "--tuner", "random", "--seed", "0", "--profile", "smoke",
         "--json", str(blocker / "x.json")]
    )  # fmt: skip
    assert rc == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and "trial" not in err


def test_module_entry_point_and_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "hpo", "run", "--tuner", "nope", "--seed", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"hpo: error: unknown tuner 'nope'; choose one of {', '.join(tuner_names())},"
        " or MODULE:ATTR"
    )


def test_a_ctrl_c_while_the_command_exits_is_no_traceback(tmp_path):
    """Once the work is done, `hpo` runs exit handlers (TensorFlow's, MLflow's) and flushes
    its output: a Ctrl-C then is ignored. Here an exit handler sends it, every time."""
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{")
    script = (
        "import atexit, os, signal, sys, time\n"
        "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.5)))\n"
        f"sys.argv = ['hpo', 'compare', {str(garbage)!r}, {str(garbage)!r}]\n"
        "from hpo.cli import entry\n"
        "entry()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert len(error_lines(proc.stderr)) == 1


def test_version_and_usage_follow_the_conventions(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("hpo ")
    with pytest.raises(SystemExit) as exc:
        main([])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.startswith("usage: hpo ") and err.strip().splitlines()[-1].startswith("hpo: error:")


@pytest.mark.parametrize("command", ["run", "report", "compare"])
def test_each_command_has_a_description_and_examples(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert f"examples:\n  hpo {command}" in out


def test_every_error_has_one_prefix(capsys):
    with pytest.raises(SystemExit):
        main(["report"])  # argparse's own error
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("hpo: error:")
    assert main(["run", "--tuner", "nope", "--seed", "0"]) == 2  # hpo's own error
    assert capsys.readouterr().err.startswith("hpo: error:")


def test_report_without_out_writes_beside_its_first_input(tmp_path, capsys):
    record = tmp_path / "random-smoke-seed0.json"
    record.write_text(json.dumps(made_up_record(test_accuracy=108 / 114)))
    assert main(["report", str(record)]) == 0
    out = tmp_path / "random-smoke-seed0-report"
    assert (out / "report.md").is_file() and (out / "summary.json").is_file()
    assert f"wrote {out / 'report.md'}" in capsys.readouterr().out
    # --out still chooses
    assert main(["report", str(record), "--out", str(tmp_path / "elsewhere")]) == 0
    assert (tmp_path / "elsewhere" / "report.md").is_file()


def test_ctrl_c_in_a_finaliser_is_delivered_again_not_printed():
    """A KeyboardInterrupt raised where Python cannot raise it (a weakref callback, a
    __del__) would be printed as a traceback and lost; under hpo it reaches the main
    thread again. (tests/test_resume.py once saw such a traceback after a SIGINT.)"""
    import time

    from hpo.run.runtime import counting_interrupts

    class InterruptedWhileFinalised:
        def __del__(self) -> None:
            raise KeyboardInterrupt

    seen: list[object] = []
    before = sys.unraisablehook
    sys.unraisablehook = seen.append  # what Python would print
    try:
        with pytest.raises(KeyboardInterrupt), counting_interrupts():
            obj = InterruptedWhileFinalised()
            del obj
            for _ in range(200):  # the interrupt comes back within milliseconds
                time.sleep(0.01)
        assert seen == []  # never handed to the printing hook
        assert sys.unraisablehook == seen.append  # which is back in place afterwards
    finally:
        sys.unraisablehook = before
