"""The analysis runs without TensorFlow, Keras or Keras Tuner: JSON in, Markdown, CSV and PNG out.

Importing the modules is not enough (they may import heavy ones while they run): here
`hpo report` and `hpo compare` run whole, on the committed baseline's real records, in
a process where importing TensorFlow, Keras or Keras Tuner fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
BASELINE = ROOT / "benchmarks" / "baselines" / "smoke.json"
HEAVY = ("tensorflow", "keras", "keras_tuner")

BLOCKED = f"""
import sys
for name in {HEAVY!r}:
    sys.modules[name] = None  # importing it now raises ImportError
from hpo.cli import main
code = main(sys.argv[1:])
loaded = [m for m in sys.modules if m.split(".")[0] in {HEAVY!r} and sys.modules[m] is not None]
print("HEAVY MODULES:", loaded)
sys.exit(code)
"""


def _hpo_without_tensorflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED, *args], capture_output=True, text=True, timeout=300
    )


def test_hpo_report_needs_no_tensorflow(tmp_path):
    done = _hpo_without_tensorflow("report", str(BASELINE), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "HEAVY MODULES: []" in done.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["n_seeds"] == 10 and set(summary["tuners"]) == {
        "hyperband",
        "bayesian",
        "random",
    }
    assert {p.name for p in tmp_path.iterdir()} >= {"report.md", "cells.csv", "trials.csv"}
    assert any(p.suffix == ".png" for p in tmp_path.iterdir())
    assert "Traceback" not in done.stderr


def test_hpo_compare_needs_no_tensorflow():
    done = _hpo_without_tensorflow("compare", str(BASELINE), str(BASELINE))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "no regression" in done.stdout
    assert "HEAVY MODULES: []" in done.stdout


def test_a_report_on_a_tuner_of_ones_own_does_not_import_its_code(tmp_path):
    """Its module imports Keras Tuner (the README's example does): the report names the tuner
    without running its code."""
    data = json.loads(BASELINE.read_text())
    for bench in data["benchmarks"]:
        cell = bench.get("extra_info", {}).get("cell")
        if cell and cell["tuner"] == "random":
            cell["tuner"] = "examples.mytuners:make_oracle"
    path = tmp_path / "own.json"
    path.write_text(json.dumps(data))
    done = _hpo_without_tensorflow("report", str(path), "--out", str(tmp_path / "report"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "HEAVY MODULES: []" in done.stdout
    budgets = json.loads((tmp_path / "report" / "summary.json").read_text())["provenance"][
        "budgets"
    ]
    assert budgets["examples.mytuners:make_oracle"].startswith("a tuner of its own")
