"""hpo's pytest plugin: installed by pip, inert unless used, and its pytest-benchmark seam."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hpo.plugin import adapter


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
    import json

    machine = json.loads((tmp_path / "out.json").read_text())["machine_info"]
    assert "hpo" not in machine  # no calibration, no versions: hpo did nothing


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
