"""From cell records to the numbers and the verdict of one task: what summary.json holds.

Every accuracy enters a test as a count of correct rows (`stats.correct_rows`),
so equal accuracies from Keras (float32) and scikit-learn (float64) are ties.
Comparisons use only the seeds every tuner completed; the summary says which
seeds were dropped and why.

The numbers are the comparison's (`hpo.analysis.comparison.compare`, computed once);
`TaskSummary` lays one task's comparison out as its report has always shown it, with
the one-task sections, and `hpo.analysis.suite.SuiteSummary` lays out any other. Both
are `Summary`: the report asks a summary for its table, its text and its figures, and
never asks which kind it has.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any, Protocol

from hpo.analysis import stats
from hpo.analysis.anytime import Anytime
from hpo.analysis.budget import OverBudget
from hpo.analysis.comparison import (
    Comparison,
    PairedTask,
    Provenance,
    Reference,
    compare,
)
from hpo.analysis.hypervolume import HypervolumeBlock
from hpo.analysis.paired import Pair, Ranks, SmallestEffect, practical_sentence
from hpo.analysis.replayed import replayed_words
from hpo.analysis.suite import SuiteSummary, suite_summary_of
from hpo.analysis.verdict import Recommendation, Verdict, verdict
from hpo.analysis.workers import AcrossWorkers
from hpo.experiment.results import Results

__all__ = ["METRICS", "Provenance", "Reference", "Summary", "TaskSummary", "summarize"]

METRICS: list[tuple[str, str, bool, str]] = [
    ("best_val_accuracy", "best val acc (biased)", True, "accuracy"),
    ("test_accuracy", "test acc", True, "accuracy"),
    ("test_loss", "test loss", False, "loss"),
    ("wall_time_s", "time (s)", False, "time"),
    ("epochs_trained", "epochs", False, "fixed"),
    ("trials_completed", "trials", False, "fixed"),
]
BOUNDS = {"accuracy": (0.0, 1.0), "loss": (0.0, math.inf), "time": (0.0, math.inf)}


class Summary(Protocol):
    """The numbers of a comparison, whatever the results cover (one task, or a suite).

    How each kind is rendered (tables, report.md, figures) is the report's:
    `hpo.analysis.report.report_of(summary)`.
    """

    def to_json(self) -> dict[str, Any]:
        """summary.json's content: plain data (NaN where a number is undefined)."""
        ...

    def conclusions(self) -> list[str]:
        """What a terminal prints at the end: the verdicts, without markdown."""
        ...


# Keys summary.json leaves out, rather than writing null, when there is nothing to say.
_LEFT_OUT_IF_NONE = (
    "friedman",
    "per_seed_references",
    "normalised_score",
    "normalised_score_note",
    "over_budget",
    "workers",
)


@dataclass(frozen=True)
class TaskSummary:
    """Everything the report says about tuners on one classification task, as numbers.

    Seeds are those every tuner completed; per_seed holds correct test rows.
    `verdict` and `winner` are derived from the comparisons.
    """

    task: str
    profile: str
    engines: list[str]
    tuners: list[str]
    seeds: list[int]
    n_val: int
    n_test: int
    alpha: float
    per_tuner: dict[str, dict[str, dict[str, float]]]
    pairs: list[Pair]
    min_p_value: float
    min_p_adjusted: float
    min_seeds_for_any_verdict: int
    claimed: dict[str, dict[str, float]]
    per_seed: dict[str, dict[str, int]]
    failures: dict[str, list[dict[str, Any]]]
    dropped_seeds: list[dict[str, Any]]
    stopped: list[dict[str, Any]]
    friedman: Ranks | None  # with three tuners or more
    anytime: dict[str, Anytime]
    references: dict[str, Reference] | None
    per_seed_references: dict[str, dict[str, int]] | None
    normalised_score: dict[str, float | None] | None
    normalised_score_note: str | None
    hypervolume: HypervolumeBlock | None
    provenance: Provenance
    recommendation: Recommendation | None
    # The margin of each test-accuracy pair's equivalence and relevance (`Pair["margin"]`).
    smallest_effect: SmallestEffect | None = None
    over_budget: OverBudget | None = None  # regret and ranks against budget (budget.py)
    workers: AcrossWorkers | None = None  # one tuner across k workers (workers.py)

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    @cached_property
    def verdict(self) -> Verdict:
        """The winner (or None), every significant pair, and the sentence; then the smallest
        effect that matters and each pair of tuners against it (`paired.practical_text`)."""
        said = verdict(self)
        if self.smallest_effect is not None:
            accuracy = [p for p in self.pairs if p["metric"] == "test_accuracy"]
            more = practical_sentence(accuracy, self.smallest_effect, self.alpha, "Test accuracy")
            said["text"] = f"{said['text']} {more}" if more else said["text"]
        return said

    @property
    def winner(self) -> str | None:
        return self.verdict["winner"]

    def to_json(self) -> dict[str, Any]:
        """summary.json's content (NaN where a number is undefined)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in _LEFT_OUT_IF_NONE:
            if data[key] is None:
                del data[key]
        data.update(n_seeds=self.n_seeds, verdict=self.verdict, winner=self.winner)
        return copy.deepcopy(data)

    def conclusions(self) -> list[str]:
        """The verdict, the recommendation's if tested, and accuracy against size (first, for
        replayed cells, where their results come from)."""
        lines = [self.verdict["text"]]
        words = replayed_words(self.provenance.get("replayed"))
        if words is not None:
            lines.insert(0, f"Results {words}.")
        if self.recommendation:
            lines.append(self.recommendation["text"])
        if self.hypervolume:
            lines.append(self.hypervolume["text"])
        return [line.replace("**", "") for line in lines]


def task_summary_of(comparison: Comparison) -> TaskSummary:
    """One task's comparison, with its one-task sections, laid out as its report shows it:
    test accuracy (in correct rows) and search time compared pair by pair."""
    (name,) = comparison.tasks
    task = comparison.per_task[name]
    sections = comparison.one_task
    assert sections is not None, "a one-task summary needs the one-task sections"
    n_test = task.n_test
    test_pairs = []
    for p in task.score_pairs:
        row = copy.deepcopy(p)
        row["metric"] = "test_accuracy"
        row["seeds_needed"] = task.seeds_needed[p["a"], p["b"]]
        test_pairs.append(row)
    friedman: Ranks | None = copy.deepcopy(task.friedman)
    if friedman is not None:
        friedman["metric"] = "test_accuracy"
    return TaskSummary(
        task=name,
        profile=comparison.profile,
        engines=comparison.engines,
        tuners=task.tuners,
        seeds=task.seeds,
        n_val=task.n_val,
        n_test=n_test,
        alpha=comparison.alpha,
        per_tuner=_per_tuner(task),
        pairs=test_pairs + copy.deepcopy(task.time_pairs),
        min_p_value=task.min_p_value,
        min_p_adjusted=task.min_p_adjusted,
        min_seeds_for_any_verdict=task.min_seeds_for_any_verdict,
        claimed=sections.claimed,
        per_seed={
            str(s): {t: int(task.scores[t][i]) for t in task.tuners}
            for i, s in enumerate(task.seeds)
        },
        failures=task.failures(),
        dropped_seeds=task.dropped(comparison.stopped),
        stopped=comparison.stopped,
        friedman=friedman,
        anytime=sections.anytime,
        references=sections.references,
        per_seed_references=sections.per_seed_references,
        normalised_score=sections.normalised_score,
        normalised_score_note=sections.normalised_score_note,
        hypervolume=task.hypervolume,
        provenance=comparison.provenance,
        recommendation=sections.recommendation,
        smallest_effect=task.smallest_effect,
        over_budget=comparison.over_budget,
        workers=comparison.workers,
    )


def _per_tuner(task: PairedTask) -> dict[str, dict[str, dict[str, float]]]:
    """Mean, interval and median per tuner of each of `METRICS` (min and max of the fixed)."""
    values = {m: task.values(m) for m, _, _, _ in METRICS}
    return {
        t: {
            m: stats.describe_fixed(values[m][t])
            if kind == "fixed"
            else stats.describe(values[m][t], BOUNDS[kind])
            for m, _, _, kind in METRICS
        }
        for t in task.tuners
    }


def summarize(
    results: Results,
    alpha: float = stats.ALPHA,
    normalise_to: str = "random",
    budgets: Mapping[str, str] | None = None,
    smallest_effect: float | None = None,
) -> TaskSummary | SuiteSummary:
    """Everything the report says, as numbers (`to_json()` is summary.json).

    One task whose test score counts correct rows gives a `TaskSummary` (with the
    one-task sections); several tasks, or a task scored otherwise (regression's R², a
    task's own score), a `SuiteSummary`. `normalise_to` is the tuner that scores 1 in
    the bayesmark-style normalised score (0 = best seen on each seed), when it is among
    the results. `budgets` is each tuner's planned budget in words
    (`hpo.tuners.budget_texts`), for the provenance: the analysis never imports a
    tuner. `smallest_effect`: the smallest difference in test score that matters, in
    test rows on accuracy tasks and in the score's units otherwise (None: one test
    row, or 0.01; `paired.smallest_effect_of`).
    """
    comparison = compare(results, alpha, normalise_to, budgets, smallest_effect)
    if comparison.one_task is not None:
        return task_summary_of(comparison)
    return suite_summary_of(comparison)
