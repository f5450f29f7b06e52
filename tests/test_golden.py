"""Golden reports: report.md and summary.json of real runs, frozen before the analysis moved.

Each case is real records (tests/golden/*.json.gz: pytest-benchmark JSON files of
real runs, live or replayed) and the report.md and summary.json the analysis made
of them when the case was frozen. A change to the analysis must leave them
identical, apart from the moment the report was written. To freeze a case anew
(only when a change of the report is meant), run this module with
HPO_WRITE_GOLDEN=1 and commit what it writes, with the reason.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from hpo.analysis.report import write_report
from hpo.experiment.results import load_results

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    # The committed smoke baseline: one task, three tuners x 10 seeds, live, with references.
    "smoke": ["smoke.json"],
    # One task, replayed from the Breast Cancer table at quick, with live references.
    "replayed": ["replay-breast_cancer-quick.json"],
    # Two tasks, replayed: a suite.
    "suite": ["replay-breast_cancer-quick.json", "replay-mnist1d-quick.json"],
}
_WRITTEN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def _report(case: str, folder: Path) -> tuple[str, dict]:
    """Write the case's report in `folder` from its inputs, named as when it was frozen."""
    names = CASES[case]
    for name in names:
        with gzip.open(GOLDEN / f"{name}.gz", "rb") as src, (folder / name).open("wb") as dst:
            shutil.copyfileobj(src, dst)
    cwd = Path.cwd()
    os.chdir(folder)  # the report names its inputs as given: relative, as when frozen
    try:
        from hpo.tuners import budget_texts

        results = load_results(names)
        profile = results.cells[0].profile
        tuners = list(dict.fromkeys(c.tuner for c in results.cells))
        write_report(results, "report", budgets=budget_texts(tuners, profile))
    finally:
        os.chdir(cwd)
    text = (folder / "report" / "report.md").read_text(encoding="utf-8")
    summary = json.loads((folder / "report" / "summary.json").read_text(encoding="utf-8"))
    return text, summary


def _without_moment(value):
    """`value` with the moment the report was written (report_written) masked."""
    if isinstance(value, str):
        return _WRITTEN.sub("WRITTEN", value)
    if isinstance(value, dict):
        return {k: "WRITTEN" if k == "report_written" else _without_moment(v)
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [_without_moment(v) for v in value]
    return value


@pytest.mark.parametrize("case", list(CASES))
def test_the_report_of_real_records_is_unchanged(case, tmp_path):
    text, summary = _report(case, tmp_path)
    expected_md = GOLDEN / f"{case}.report.md"
    expected_json = GOLDEN / f"{case}.summary.json.gz"
    if os.environ.get("HPO_WRITE_GOLDEN"):
        expected_md.write_text(text, encoding="utf-8")
        with gzip.open(expected_json, "wt", encoding="utf-8") as fh:
            fh.write(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    assert _without_moment(text) == _without_moment(expected_md.read_text(encoding="utf-8"))
    with gzip.open(expected_json, "rt", encoding="utf-8") as fh:
        expected = json.load(fh)
    assert _differences(_without_moment(summary), _without_moment(expected)) == []


def _differences(got, want, path: str = "") -> list[str]:
    """Where two JSON values differ, as paths (the first 20): a readable failure."""
    if isinstance(got, dict) and isinstance(want, dict):
        out = [f"{path}/{k}: only in one" for k in sorted(got.keys() ^ want.keys())]
        for k in sorted(got.keys() & want.keys()):
            out += _differences(got[k], want[k], f"{path}/{k}")
        return out[:20]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        pairs = enumerate(zip(got, want, strict=True))
        return [d for i, (g, w) in pairs for d in _differences(g, w, f"{path}/{i}")][:20]
    return [] if got == want else [f"{path}: {got!r:.80} != {want!r:.80}"]
