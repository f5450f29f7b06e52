"""From cell records to the numbers and the verdict: what summary.json holds.

Every accuracy enters a test as a count of correct rows (`stats.correct_rows`),
so equal accuracies from Keras (float32) and scikit-learn (float64) are ties.
Comparisons use only the seeds every tuner completed; the summary says which
seeds were dropped and why.

One task's summary (`TaskSummary`) and a suite's (`hpo.analysis.suite.SuiteSummary`)
are two implementations of `Summary`: the report asks a summary for its table,
its text and its figures, and never asks which kind it has.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Protocol, TypedDict

import numpy as np

from hpo.analysis import stats
from hpo.analysis.anytime import Anytime, anytime
from hpo.analysis.hypervolume import HypervolumeBlock, hypervolume_block
from hpo.analysis.paired import (
    Pair,
    Ranks,
    SmallestEffect,
    counts,
    holm_in_place,
    in_shares,
    pair,
    practical_sentence,
    ranks,
    smallest_effect_of,
)
from hpo.analysis.replayed import replayed_from, replayed_words
from hpo.analysis.suite import SuiteSummary, check_smallest_effect, summarize_suite
from hpo.analysis.tasks import judged_tasks
from hpo.analysis.verdict import REFERENCES, Recommendation, Verdict, recommendation, verdict
from hpo.errors import HpoError
from hpo.experiment.profiles import DEFAULT_TASK
from hpo.experiment.results import CellResult, Results, trial_engines

METRICS: list[tuple[str, str, bool, str]] = [
    ("best_val_accuracy", "best val acc (biased)", True, "accuracy"),
    ("test_accuracy", "test acc", True, "accuracy"),
    ("test_loss", "test loss", False, "loss"),
    ("wall_time_s", "time (s)", False, "time"),
    ("epochs_trained", "epochs", False, "fixed"),
    ("trials_completed", "trials", False, "fixed"),
]
BOUNDS = {"accuracy": (0.0, 1.0), "loss": (0.0, math.inf), "time": (0.0, math.inf)}
COMPARED = ["test_accuracy", "wall_time_s"]  # the paired tests' metrics
# What the seed report printed, from a run its own footnote calls simulated.
CLAIMED = {
    "hyperband": {"best_val_accuracy": 0.96, "wall_time_s": 15 * 60.0},
    "bayesian": {"best_val_accuracy": 0.97, "wall_time_s": 20 * 60.0},
}


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


class Reference(TypedDict):
    """An untuned model's test accuracy over seeds, and every tuner minus it."""

    label: str
    test_accuracy: dict[str, float]
    vs_tuners: dict[str, Pair]


class Provenance(TypedDict):
    """Where the records came from and what made them."""

    report_written: str
    runs: list[dict[str, Any]]
    hpo_source: list[Any]
    versions: dict[str, list[Any]]
    calibration_s: dict[str, float] | None
    workers_per_cell: list[Any]
    resumed_cells: int
    budgets: dict[str, str] | None
    # Cells replayed against tables of real trainings (hpo.replay), not trained live:
    # {"tables": the tables' file names, "cells": how many of the cells}.
    replayed: dict[str, Any] | None


# Keys summary.json leaves out, rather than writing null, when there is nothing to say.
_LEFT_OUT_IF_NONE = ("friedman", "per_seed_references", "normalised_score", "normalised_score_note")


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


def _paired(cells: Sequence[CellResult]) -> tuple[list[str], list[int], list[int], dict]:
    """Tuners, the seeds all of them ran, all seeds seen, and (tuner, seed) -> record."""
    profiles = sorted({c.profile for c in cells})
    if len(profiles) > 1:
        raise HpoError(f"results mix profiles {', '.join(profiles)}; report one at a time")
    tuners = list(dict.fromkeys(c.tuner for c in cells))
    by_key = {(c.tuner, c.seed): c for c in cells}
    seeds = sorted(set.intersection(*({c.seed for c in cells if c.tuner == t} for t in tuners)))
    if not seeds:
        raise HpoError("no seed was run by every tuner: nothing to pair")
    return tuners, seeds, sorted({c.seed for c in cells}), by_key


def _rows(metric: str, values: Sequence[float], n_val: int, n_test: int) -> np.ndarray:
    """Accuracies as counts of correct rows; other metrics as they are. Shape (n_seeds,)."""
    if metric == "test_accuracy":
        return counts(metric, values, n_test)
    if metric == "best_val_accuracy":
        return counts(metric, values, n_val)
    return np.asarray(values, dtype=float)


def _failures(cells: Sequence[CellResult]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for c in cells:
        for h in c.history:
            if h["status"] != "COMPLETED":
                out.setdefault(c.tuner, []).append(
                    {"seed": c.seed, "trial_id": h.get("trial_id"), "error": h.get("error")}
                )
    return out


def _dropped(
    tuners: list[str], seeds: list[int], all_seeds: list[int], by_key: dict, stopped: list[dict]
) -> list[dict[str, Any]]:
    """Seeds left out of the comparisons: which tuner has no record there, and why if known."""
    out = []
    for s in sorted(set(all_seeds) - set(seeds)):
        missing = [t for t in tuners if (t, s) not in by_key]
        reasons = [
            {"tuner": x["tuner"], "reason": x["reason"]}
            for x in stopped
            if x["seed"] == s and x["tuner"] in missing
        ]
        out.append({"seed": s, "missing": missing, "stopped": reasons})
    return out


def _provenance(
    results: Results, tuners: list[str], budgets: Mapping[str, str] | None
) -> Provenance:
    def distinct(values: Any) -> list[Any]:
        return sorted({v for v in values if v is not None}, key=str)

    cells = results.cells
    calibrations = distinct(c.calibration_s for c in cells)
    said = {t: budgets[t] for t in tuners if t in budgets} if budgets else {}
    return {
        "report_written": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": [{k: v for k, v in p.items() if v is not None} for p in results.provenance],
        "hpo_source": distinct(c.versions.get("hpo_source") for c in cells),
        "versions": {
            k: distinct(c.versions.get(k) for c in cells)
            for k in sorted({k for c in cells for k in c.versions if k != "hpo_source"})
        },
        "calibration_s": (
            {"min": min(calibrations), "max": max(calibrations), "distinct": len(calibrations)}
            if calibrations
            else None
        ),
        "workers_per_cell": distinct(c.workers for c in cells),
        "resumed_cells": sum(c.resumes > 0 for c in cells),
        "budgets": said or None,
        "replayed": replayed_from(cells),
    }


def summarize(
    results: Results,
    alpha: float = stats.ALPHA,
    normalise_to: str = "random",
    budgets: Mapping[str, str] | None = None,
    smallest_effect: float | None = None,
) -> TaskSummary | SuiteSummary:
    """Everything the report says, as numbers (`to_json()` is summary.json).

    Results over several tasks, or on a task whose test score does not count test rows
    (regression's R², or a task's own score), give a `SuiteSummary`.
    `normalise_to` is the tuner that scores 1 in the bayesmark-style normalised
    score (0 = best seen on each seed), when it is among the results. `budgets`
    is each tuner's planned budget in words (`hpo.tuners.budget_texts`), for the
    provenance: the analysis never imports a tuner. `smallest_effect`: the smallest
    difference in test score that matters, in test rows on accuracy tasks and in the
    score's units otherwise (None: one test row, or 0.01; `paired.smallest_effect_of`).
    """
    tasks = list(dict.fromkeys(c.task for c in results.cells))
    judged = judged_tasks(results.cells)  # once: how each task's records are judged
    if len(tasks) > 1 or judged[tasks[0]].regression:
        return summarize_suite(results, alpha, judged, smallest_effect)
    check_smallest_effect(smallest_effect)
    tuners, seeds, all_seeds, by_key = _paired(results.cells)
    n_val, n_test = results.cells[0].n_val, results.cells[0].n_test
    values = {
        m: {t: [float(getattr(by_key[t, s], m)) for s in seeds] for t in tuners}
        for m, _, _, _ in METRICS
    }
    tables = {m: {t: _rows(m, values[m][t], n_val, n_test) for t in tuners} for m in COMPARED}
    test_rows = tables["test_accuracy"]

    n_pairs = max(1, len(tuners) * (len(tuners) - 1) // 2)
    margin = smallest_effect_of(smallest_effect, True, "accuracy", n_test)
    pairs: list[Pair] = []
    for metric in COMPARED:
        rows = [
            pair(
                a, b, metric, tables[metric][a], tables[metric][b],
                margin=margin["value"] if metric == "test_accuracy" else None, alpha=alpha,
            )
            for a, b in itertools.combinations(tuners, 2)
        ]  # fmt: skip
        holm_in_place(rows, alpha)
        pairs.extend(rows)
    for p in pairs:
        if p["metric"] == "test_accuracy":
            in_shares(p, n_test)
            diffs = np.subtract(test_rows[p["a"]], test_rows[p["b"]])
            p["seeds_needed"] = stats.seeds_needed_range(diffs, n_comparisons=n_pairs)

    friedman = ranks(test_rows, alpha)
    if friedman is not None:
        friedman["metric"] = "test_accuracy"
    references = _references(results.references, seeds, test_rows, n_test)
    by_seed = {b["seed"]: b for b in results.references}
    normalised = (
        stats.normalised_scores(test_rows, reference=normalise_to)
        if normalise_to in tuners
        else None
    )
    return TaskSummary(
        task=tasks[0],
        profile=results.cells[0].profile,
        engines=trial_engines(results.cells),
        tuners=tuners,
        seeds=seeds,
        n_val=n_val,
        n_test=n_test,
        alpha=alpha,
        per_tuner={
            t: {
                m: stats.describe_fixed(values[m][t])
                if kind == "fixed"
                else stats.describe(values[m][t], BOUNDS[kind])
                for m, _, _, kind in METRICS
            }
            for t in tuners
        },
        pairs=pairs,
        min_p_value=stats.min_wilcoxon_p(len(seeds)),
        min_p_adjusted=min(1.0, n_pairs * stats.min_wilcoxon_p(len(seeds))),
        min_seeds_for_any_verdict=stats.min_seeds_for_any_verdict(n_pairs, alpha),
        # The seed report's claims are about its task alone.
        claimed={t: c for t, c in CLAIMED.items() if t in tuners and tasks == [DEFAULT_TASK]},
        per_seed={str(s): {t: int(test_rows[t][i]) for t in tuners} for i, s in enumerate(seeds)},
        failures=_failures(results.cells),
        dropped_seeds=_dropped(tuners, seeds, all_seeds, by_key, results.stopped),
        stopped=results.stopped,
        friedman=friedman,
        anytime={
            axis: anytime({t: [by_key[t, s] for s in seeds] for t in tuners}, axis)
            for axis in ("epochs", "seconds")
        },
        references=references,
        per_seed_references=None
        if references is None
        else {
            str(s): {name: int(counts(name, [by_seed[s][name]], n_test)[0]) for name in REFERENCES}
            for s in seeds
        },
        normalised_score=normalised,
        normalised_score_note=(
            f"{normalise_to} found the best test accuracy of all tuners on every seed,"
            " so there is no gap to normalise by"
            if normalised is not None and all(v is None for v in normalised.values())
            else None
        ),
        hypervolume=hypervolume_block(by_key, tuners, seeds, alpha, judged[tasks[0]]),
        provenance=_provenance(results, tuners, budgets),
        recommendation=recommendation(test_rows, n_test, alpha),
        smallest_effect=margin,
    )


def _references(
    references: list[dict[str, Any]],
    seeds: list[int],
    test_rows: Mapping[str, np.ndarray],
    n_test: int,
) -> dict[str, Reference] | None:
    """The untuned references against every tuner, Holm-corrected as one family.

    test_rows: tuner -> correct test rows, shape (n_seeds,).
    """
    by_seed = {b["seed"]: b for b in references}
    if not seeds or not all(s in by_seed for s in seeds):
        return None
    out: dict[str, Reference] = {}
    family: list[Pair] = []
    for name in REFERENCES:
        acc = [float(by_seed[s][name]) for s in seeds]
        ref = counts(name, acc, n_test)
        out[name] = {
            "label": REFERENCES[name],
            "test_accuracy": stats.describe(acc, BOUNDS["accuracy"]),
            "vs_tuners": {},
        }
        for t, rows in test_rows.items():
            row = pair(t, name, "test_accuracy", rows, ref)
            in_shares(row, n_test)
            out[name]["vs_tuners"][t] = row
            family.append(row)
    holm_in_place(family, stats.ALPHA)
    return out
