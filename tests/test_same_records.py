"""benchmarks/same_records.py on made-up records with a known answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hpo.testing import made_up_record

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "same_records.py"


def _run(tmp_path: Path, baseline: dict, candidate: dict) -> subprocess.CompletedProcess[str]:
    (tmp_path / "a.json").write_text(json.dumps(baseline))
    (tmp_path / "b.json").write_text(json.dumps(candidate))
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "a.json"), str(tmp_path / "b.json")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_times_memory_versions_and_new_fields_do_not_count(tmp_path):
    old = made_up_record(versions={"hpo_source": "a"})
    new = made_up_record(wall_time_s=9.0, peak_rss_mb=1.0, versions={"hpo_source": "b"})
    new["history"] = [{**old["history"][0], "elapsed_s": 7.0, "params": 10}]
    done = _run(tmp_path, old, new)
    assert done.returncode == 0, done.stdout
    assert "1 of 1 records identical" in done.stdout
    assert "fields the baseline does not hold: history.[].params" in done.stdout


def test_a_changed_score_counts(tmp_path):
    old = made_up_record()
    done = _run(tmp_path, old, made_up_record(test_accuracy=0.9))
    assert done.returncode == 1
    assert "test_accuracy: 0.95 != 0.9" in done.stdout


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "b.json").write_text("{}")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "missing.json"), str(tmp_path / "b.json")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
