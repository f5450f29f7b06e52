"""hpo's pytest plugin: installed by pip, inert unless used, and its pytest-benchmark seam."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hpo.experiment.tasks import TASKS
from hpo.plugin import HpoSession, adapter, hpo_session, selection
from hpo.plugin.session import with_cell_params

REPOSITORY = Path(__file__).parents[1]


def _pytest(args: list[str], cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip


def test_help_lists_the_options_from_an_empty_folder(tmp_path):
    done = _pytest(["--help"], tmp_path)
    assert done.returncode == 0
    assert "--hpo-profile" in done.stdout and "--hpo-tuners" in done.stdout
    words = " ".join(done.stdout.split())  # as wrapped for the terminal
    assert f"comma-separated tasks: {', '.join(TASKS)}," in words  # every built-in task
    # --help creates nothing of hpo's (pytest-benchmark makes its own .benchmarks/)
    assert [p.name for p in tmp_path.iterdir() if p.name != ".benchmarks"] == []


def test_a_project_that_does_not_use_it_is_untouched(tmp_path):
    (tmp_path / "test_other.py").write_text(
        "def test_sum(benchmark):\n    assert benchmark(sum, [1, 2]) == 3\n\n"
        "def test_seed_fixture_name_is_free(request):\n"
        "    assert 'hpo_seed' not in request.fixturenames\n"
    )
    done = _pytest(["-q", "--benchmark-json", "out.json"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "results").exists()
    machine = json.loads((tmp_path / "out.json").read_text())["machine_info"]
    assert "hpo" not in machine  # no calibration, no versions: hpo did nothing
    params = [b["params"] for b in json.loads((tmp_path / "out.json").read_text())["benchmarks"]]
    assert params == [None]  # nor did it give the benchmark hpo's params


def test_the_pytest_benchmark_internals_it_relies_on_are_still_there(pytestconfig):
    # If a pytest-benchmark upgrade moves these, this fails, naming what moved.
    bench = adapter.session(pytestconfig)
    assert bench is not None, "config._benchmarksession is gone"
    for name in ("json", "disabled", "xdist_warning"):
        assert hasattr(bench, name), f"BenchmarkSession.{name} is gone"
    before = bench.json
    try:
        adapter.write_json_to(pytestconfig, "x.json")
        assert adapter.json_path(pytestconfig).name == "x.json"
    finally:
        bench.json = before


@pytest.mark.parametrize("option", ["--hpo-seeds=x", "--hpo-profile=fast", "--hpo-tuners=nope"])
def test_bad_options_are_one_line_and_exit_2(tmp_path, option):
    (tmp_path / "test_cells.py").write_text("def test_cell(hpo_tuner, hpo_seed):\n    pass\n")
    done = _pytest([option], tmp_path)
    assert done.returncode == 2
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and "hpo: error:" in lines[0]


def test_the_session_is_one_object_registered_with_pytest(pytestconfig):
    hpo = hpo_session(pytestconfig)
    assert isinstance(hpo, HpoSession) and pytestconfig.pluginmanager.is_registered(hpo)
    assert selection(pytestconfig) is hpo.selection
    assert hpo.records == [] and not hpo.active  # this suite asks for no hpo_* fixture


def test_every_benchmark_gets_the_cells_params_for_pytest_benchmarks_group_by():
    doc = {
        "benchmarks": [
            {"name": "test_references[0]", "params": {"hpo_seed": 0}},
            {"name": "test_search[x]", "params": {"hpo_tuner": "random", "hpo_seed": 0}},
            {"name": "test_other", "params": None},
        ]
    }
    with_cell_params(doc)
    assert [b["params"]["hpo_tuner"] for b in doc["benchmarks"]] == [None, "random", None]
    assert doc["benchmarks"][0]["params"] == {"hpo_seed": 0, "hpo_tuner": None, "hpo_task": None}


TENSORFLOW_START_UP = re.compile(r"cuda|onednn|absl", re.IGNORECASE)


@pytest.mark.slow
def test_pytest_benchmarks_own_cli_reads_a_real_sessions_json(tmp_path):
    # A real smoke session (one tuner, one seed; the keras engine, whose sessions once let a
    # TensorFlow start-up line through), then pytest-benchmark's own compare on its JSON.
    out = tmp_path / "bench.json"
    done = _pytest(
        ["benchmarks", "--hpo-profile", "smoke", "--hpo-seeds", "0", "--hpo-tuners", "random",
         "--hpo-engine", "keras", "-n", "0", "-s", "--benchmark-json", str(out)],
        REPOSITORY,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert not [line for line in output.splitlines() if TENSORFLOW_START_UP.search(line)]
    assert (tmp_path / "bench-report" / "report.md").is_file()

    def compare(group_by: str) -> str:
        shown = subprocess.run(
            [sys.executable, "-m", "pytest_benchmark", "compare", str(out),
             f"--group-by={group_by}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert "Name (time in s)" in shown.stdout and "test_search[" in shown.stdout
        return shown.stdout

    assert "hpo_tuner=random" in compare("param:hpo_tuner")
    by_group = compare("group")
    assert "benchmark 'references'" in by_group and "benchmark 'search (smoke)'" in by_group


@pytest.mark.slow
def test_a_task_module_that_imports_keras_runs_on_xdist_workers(tmp_path):
    # The task's preflight trains it for a moment; in a worker that ran a TensorFlow op
    # before it sized its thread pools, and every worker ended in an INTERNALERROR.
    out = tmp_path / "bench.json"
    done = _pytest(
        ["benchmarks", "--hpo-tasks", "tests.user_tasks:conv_task", "--hpo-tuners", "random",
         "--hpo-seeds", "0-1", "--hpo-profile", "smoke", "-n", "2", "--benchmark-json", str(out)],
        REPOSITORY,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "INTERNALERROR" not in output and "2 passed" in output
    cells = [b["extra_info"]["cell"] for b in json.loads(out.read_text())["benchmarks"]]
    assert sorted((c["task"], c["seed"]) for c in cells) == [
        ("tests.user_tasks:conv_task", 0),
        ("tests.user_tasks:conv_task", 1),
    ]
