"""The report: report.md, summary.json, CSV files and PNG figures, from a summary's numbers.

`hpo.analysis.summary.summarize` makes the numbers. One task's report and a
suite's are two implementations of one interface (`Report`), built from
`markdown` (report.md's text), `tables` (the main tables, cells.csv and
trials.csv) and `figures` (PNGs, matplotlib imported only there).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hpo.analysis.report.figures import suite_figures, task_figures
from hpo.analysis.report.markdown import suite_markdown, task_markdown
from hpo.analysis.report.tables import (
    CELL_COLUMNS,
    cell_rows,
    csv_text,
    measured_table,
    task_table,
    trial_rows,
    tuner_table,
)
from hpo.analysis.suite import SuiteSummary
from hpo.analysis.summary import Summary, TaskSummary, summarize
from hpo.analysis.workers import as_arms
from hpo.errors import HpoError
from hpo.experiment.results import Results, write_json, write_text

__all__ = [
    "Report",
    "Summary",
    "conclusions",
    "main_table",
    "report_of",
    "tuner_table",
    "write_report",
]


class Report(Protocol):
    """What the report makes of a summary: its main table, report.md and figures."""

    def main_table(self) -> str:
        """The main table, markdown (the report's and the terminal's)."""
        ...

    def markdown(self, figures: Mapping[str, str]) -> str:
        """report.md, linking `figures` (name -> file name)."""
        ...

    def figures(self, results: Results, out: Path) -> dict[str, str]:
        """Write the PNG figures into `out`; name -> file name."""
        ...


@dataclass(frozen=True)
class TaskReport:
    """One task's report: the seed report's table measured, tests, anytime curves."""

    summary: TaskSummary

    def main_table(self) -> str:
        return measured_table(self.summary)

    def markdown(self, figures: Mapping[str, str]) -> str:
        return task_markdown(self.summary, figures)

    def figures(self, results: Results, out: Path) -> dict[str, str]:
        return task_figures(self.summary, results, out)


@dataclass(frozen=True)
class SuiteReport:
    """A suite's report: each task's table, ranks across tasks, wins/ties/losses."""

    summary: SuiteSummary

    def main_table(self) -> str:
        return "\n\n".join(task_table(s) for s in self.summary.per_task.values())

    def markdown(self, figures: Mapping[str, str]) -> str:
        return suite_markdown(self.summary, figures)

    def figures(self, results: Results, out: Path) -> dict[str, str]:
        return suite_figures(self.summary, results, out)


_REPORTS: dict[type, Any] = {TaskSummary: TaskReport, SuiteSummary: SuiteReport}


def report_of(summary: Summary) -> Report:
    """The report of a summary, of the kind the summary is (one task, or a suite)."""
    report: Report = _REPORTS[type(summary)](summary)
    return report


def main_table(summary: Summary) -> str:
    """The seed report's table, measured: mean [95 % CI] (median), and the claims beside it
    (for a suite of tasks: each task's test score and hypervolume per tuner)."""
    return report_of(summary).main_table()


def conclusions(summary: Summary) -> list[str]:
    """What a terminal prints at the end: the verdict, and the recommendation's if tested."""
    return summary.conclusions()


def write_report(
    results: Results,
    out: str | os.PathLike[str],
    budgets: Mapping[str, str] | None = None,
    smallest_effect: float | None = None,
) -> TaskSummary | SuiteSummary:
    """Write report.md, summary.json, cells.csv, trials.csv and PNG figures into `out`.

    `budgets`: each tuner's planned budget in words for the provenance
    (`hpo.tuners.budget_texts(tuners, profile)`; None leaves it out). `smallest_effect`:
    the smallest difference in test score that matters, in test rows on accuracy tasks
    and in the score's units otherwise (None: one test row, or 0.01).
    """
    out = Path(out)
    # bad input fails here, before any writing
    summary = summarize(results, budgets=budgets, smallest_effect=smallest_effect)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HpoError(f"cannot create {out}: {e.strerror or e}") from None
    if not os.access(out, os.W_OK):
        raise HpoError(f"cannot write to {out}: permission denied")
    report = report_of(summary)
    shown = as_arms(results)  # named as the summary names them: TUNER@k for k > 1 workers
    figures = report.figures(shown, out)
    write_text(out / "cells.csv", csv_text(CELL_COLUMNS, cell_rows(shown.cells)))
    write_text(out / "trials.csv", csv_text(*trial_rows(shown.cells)))
    write_json(out / "summary.json", _nan_to_none(summary.to_json()))
    write_text(out / "report.md", report.markdown(figures))
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
