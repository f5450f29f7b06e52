"""The report: report.md, summary.json, CSV files and PNG figures, from a summary's numbers.

`hpo.analysis.summary.summarize` makes the numbers; the summary renders itself
(`Summary`), with `markdown` (report.md's text), `tables` (the main tables,
cells.csv and trials.csv) and `figures` (PNGs, matplotlib imported only there).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hpo.analysis.report.tables import CELL_COLUMNS, cell_rows, csv_text, trial_rows, tuner_table
from hpo.analysis.suite import SuiteSummary
from hpo.analysis.summary import Summary, TaskSummary, summarize
from hpo.errors import HpoError
from hpo.experiment.results import Results, write_json, write_text

__all__ = ["Summary", "conclusions", "main_table", "tuner_table", "write_report"]


def main_table(summary: Summary) -> str:
    """The seed report's table, measured: mean [95 % CI] (median), and the claims beside it
    (for a suite of tasks: each task's test score and hypervolume per tuner)."""
    return summary.main_table()


def conclusions(summary: Summary) -> list[str]:
    """What a terminal prints at the end: the verdict, and the recommendation's if tested."""
    return summary.conclusions()


def write_report(
    results: Results, out: str | os.PathLike[str], budgets: Mapping[str, str] | None = None
) -> TaskSummary | SuiteSummary:
    """Write report.md, summary.json, cells.csv, trials.csv and PNG figures into `out`.

    `budgets`: each tuner's planned budget in words for the provenance
    (`hpo.tuners.budget_texts(tuners, profile)`; None leaves it out).
    """
    out = Path(out)
    summary = summarize(results, budgets=budgets)  # bad input fails here, before any writing
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HpoError(f"cannot create {out}: {e.strerror or e}") from None
    if not os.access(out, os.W_OK):
        raise HpoError(f"cannot write to {out}: permission denied")
    figures = summary.figures(results, out)
    write_text(out / "cells.csv", csv_text(CELL_COLUMNS, cell_rows(results.cells)))
    write_text(out / "trials.csv", csv_text(*trial_rows(results.cells)))
    write_json(out / "summary.json", _nan_to_none(summary.to_json()))
    write_text(out / "report.md", summary.markdown(figures))
    return summary


def _nan_to_none(obj: Any) -> Any:
    """JSON has no NaN: an undefined number (CI of one value, curve before a trial) is null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_to_none(v) for v in obj]
    return obj
