"""Tuners over several tasks, and accuracy against size: the suite's numbers and verdicts.

Per task, each tuner's test score (correct test rows for classification, R²
for regression, or a task's own score as it is) and the hypervolume of its
trials' accuracy-versus-size set (`hpo.analysis.pareto`) are compared pair by
pair with the paired Wilcoxon test over that task's seeds, Holm-corrected
across the pairs of the task.

Across tasks, every (task, seed) is one block, as in HPOBench, YAHPO Gym and
CARP-S: tuners are ranked within each block on the test score, the average
ranks are tested with Friedman's test and the Nemenyi critical difference
(Demšar 2006, as for one task: `hpo.analysis.paired`), and a wins/ties/losses table
counts, per pair of tuners, the tasks where one beats the other by the task's
paired test (a tie is a task where the test does not separate them, not where
the means are equal).

Each pair of test scores is also judged against the task's smallest effect that
matters (one test row, or 0.01 of a score that does not count rows): equivalent
within it by a paired TOST, or different by at least it (`hpo.analysis.paired`).

The numbers are the comparison's (`hpo.analysis.comparison.compare`, computed once);
`SuiteSummary` lays them out, task by task and across tasks.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from hpo.analysis import stats
from hpo.analysis.budget import OverBudget
from hpo.analysis.comparison import (
    AcrossTasks,
    Comparison,
    PairedTask,
    check_smallest_effect,
    compare,
    compare_task,
    score_rows,
)
from hpo.analysis.hypervolume import HypervolumeBlock
from hpo.analysis.paired import Pair, Ranks, SmallestEffect, practical_sentence
from hpo.analysis.replayed import replayed_words
from hpo.analysis.tasks import JudgedTask, judged_tasks
from hpo.analysis.workers import AcrossWorkers
from hpo.experiment.results import CellResult, Results

__all__ = [
    "AcrossTasks",
    "SuiteSummary",
    "TaskComparison",
    "check_smallest_effect",
    "score_rows",
    "suite_summary_of",
    "summarize_suite",
    "task_summary",
]


class TaskComparison(TypedDict):
    """One task of a suite: test score and hypervolume per tuner, paired by seed.

    per_seed holds the test score the tests use: correct test rows, or R².
    """

    task: str
    score: str
    objective: str
    tuners: list[str]
    seeds: list[int]
    n_seeds: int
    dropped_seeds: list[int]
    n_train: int
    n_val: int
    n_test: int
    per_tuner: dict[str, dict[str, dict[str, float]]]
    per_seed: dict[str, dict[str, float]]
    pairs: list[Pair]
    friedman: Ranks | None
    hypervolume: HypervolumeBlock | None
    min_p_adjusted: float
    smallest_effect: SmallestEffect


@dataclass(frozen=True)
class SuiteSummary:
    """What the report says about results over several tasks (or a regression task).

    One implementation of `hpo.analysis.summary.Summary`; `to_json` is summary.json.
    """

    profile: str
    engines: list[str]
    tasks: list[str]
    tuners: list[str]
    alpha: float
    per_task: dict[str, TaskComparison]
    across_tasks: AcrossTasks | None
    stopped: list[dict[str, Any]]
    report_written: str
    runs: list[dict[str, Any]]
    verdict: str
    replayed: dict[str, Any] | None = None  # the tables replayed cells came from (replayed.py)
    over_budget: OverBudget | None = None  # regret and ranks against budget (budget.py)
    workers: AcrossWorkers | None = None  # one tuner across k workers (workers.py)

    @property
    def winner(self) -> None:
        """No single winner is named over several tasks."""
        return None

    def to_json(self) -> dict[str, Any]:
        """summary.json's content (NaN where a number is undefined); `"kind": "suite"`
        tells a reader which summary it is."""
        return copy.deepcopy(
            {
                "kind": "suite",
                "profile": self.profile,
                "engines": self.engines,
                "tasks": self.tasks,
                "tuners": self.tuners,
                "alpha": self.alpha,
                "per_task": self.per_task,
                "across_tasks": self.across_tasks,
                "stopped": self.stopped,
                "report_written": self.report_written,
                "runs": self.runs,
                "verdict": {"text": self.verdict, "winner": None},
                "winner": self.winner,
                "replayed": self.replayed,
                **({"over_budget": self.over_budget} if self.over_budget else {}),
                **({"workers": self.workers} if self.workers else {}),
            }
        )

    def conclusions(self) -> list[str]:
        """The verdict, as a terminal prints it (first, for replayed cells, where their
        results come from)."""
        words = replayed_words(self.replayed)
        lines = [self.verdict.replace("**", "")]
        return lines if words is None else [f"Results {words}.", *lines]


def suite_task(task: PairedTask) -> TaskComparison:
    """One task of a suite as summary.json holds it: test score and hypervolume per tuner,
    paired by seed."""
    bounds = task.task.score_bounds
    return {
        "task": task.name,
        "score": task.task.score_name,
        "objective": task.task.objective,
        "tuners": task.tuners,
        "seeds": task.seeds,
        "n_seeds": task.n_seeds,
        "dropped_seeds": sorted(set(task.all_seeds) - set(task.seeds)),
        "n_train": task.n_train,
        "n_val": task.n_val,
        "n_test": task.n_test,
        "per_tuner": {
            t: {
                "test_score": stats.describe([c.test_score for c in group], bounds),
                "wall_time_s": stats.describe([c.wall_time_s for c in group], (0.0, np.inf)),
                "epochs_trained": stats.describe_fixed([c.epochs_trained for c in group]),
                "pareto_size": stats.describe([len(c.pareto or []) for c in group]),
            }
            for t, group in ((t, task.cells(t)) for t in task.tuners)
        },
        "per_seed": {
            str(s): {t: float(task.scores[t][i]) for t in task.tuners}
            for i, s in enumerate(task.seeds)
        },
        "pairs": copy.deepcopy(task.score_pairs),
        "friedman": copy.deepcopy(task.friedman),
        "hypervolume": task.hypervolume,
        "min_p_adjusted": task.min_p_adjusted,
        "smallest_effect": task.smallest_effect,
    }


def task_summary(
    cells: Sequence[CellResult],
    alpha: float = stats.ALPHA,
    task: JudgedTask | None = None,
    smallest_effect: float | None = None,
) -> TaskComparison:
    """One task's comparison (`compare_task`) as a suite lays it out.

    `task`: how to judge it (`hpo.analysis.tasks.judged_tasks`; by default, from `cells`).
    """
    judged = task if task is not None else judged_tasks(cells)[cells[0].task]
    return suite_task(compare_task(cells, judged, alpha, smallest_effect))


def suite_summary_of(comparison: Comparison) -> SuiteSummary:
    """A comparison laid out as a suite: each task's table, ranks across tasks."""
    per_task = {name: suite_task(t) for name, t in comparison.per_task.items()}
    said = comparison.provenance
    return SuiteSummary(
        profile=comparison.profile,
        engines=comparison.engines,
        tasks=comparison.tasks,
        tuners=comparison.tuners,
        alpha=comparison.alpha,
        per_task=per_task,
        across_tasks=comparison.across,
        stopped=comparison.stopped,
        report_written=said["report_written"],
        runs=said["runs"],
        verdict=_verdict_text(per_task, comparison.across, comparison.alpha),
        replayed=said["replayed"],
        over_budget=comparison.over_budget,
        workers=comparison.workers,
    )


def summarize_suite(
    results: Results, alpha: float = stats.ALPHA, smallest_effect: float | None = None
) -> SuiteSummary:
    """The suite's summary of results over several tasks (or of any one task): the
    comparison (`compare`), laid out as a suite, without the one-task sections."""
    return suite_summary_of(
        compare(results, alpha, smallest_effect=smallest_effect, sections=False)
    )


def _said(p: Pair) -> str:
    better, worse = (p["a"], p["b"]) if p["mean_difference"] > 0 else (p["b"], p["a"])
    return f"{better} > {worse} (p_adj {p['p_adjusted']:.3f})"


def _verdict_text(
    per_task: Mapping[str, TaskComparison], across: AcrossTasks | None, alpha: float
) -> str:
    parts = []
    if across and across["friedman"]:
        f = across["friedman"]
        order = sorted(f["average_ranks"].items(), key=lambda kv: kv[1])
        ranks_text = ", ".join(f"{t} {r:.2f}" for t, r in order)
        parts.append(
            f"Across {len(across['tasks'])} tasks ({across['blocks']} task × seed blocks), average"
            f" ranks on the test score (1 = best): {ranks_text}; Friedman p {f['p_value']:.3g}"
            + (
                f", critical difference {f['critical_difference']:.2f}."
                if f["critical_difference"] is not None
                else "."
            )
        )
    judged = False
    for name, s in per_task.items():
        sig = [p for p in s["pairs"] if p["significant"]]
        text = f"{name} ({s['n_seeds']} seeds): test {s['score']} " + (
            "; ".join(map(_said, sig)) if sig else "no pair differs"
        )
        if s["hypervolume"] is not None:
            hv = [p for p in s["hypervolume"]["pairs"] if p["significant"]]
            text += "; hypervolume " + ("; ".join(map(_said, hv)) if hv else "no pair differs")
        parts.append(text + ".")
        practical = practical_sentence(
            s["pairs"], s["smallest_effect"], alpha, f"On {name}, test {s['score']}", method=False
        )
        if practical:
            parts.append(practical)
            judged = True
    if judged:
        parts.append(
            "Equivalence on each task: two one-sided paired t-tests (TOST) at its smallest"
            " effect that matters, Holm-corrected across its pairs."
        )
    return " ".join(parts)
