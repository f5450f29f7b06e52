"""One comparison of tuners, from records: every number a report states, computed once.

`compare(results)` pairs each task's records by seed (`PairedTask`: the seeds every tuner
completed) and compares the tuners on it -- test score and search time pair by pair
(paired Wilcoxon, Holm within the task's family, TOST against the smallest effect that
matters), Friedman ranks, hypervolume -- then across tasks (ranks over task x seed blocks,
wins/ties/losses), and says where the records came from. Where the data allow it (one
task whose test score counts correct rows), the one-task sections are attached: the
untuned references, the seed report's claims, anytime curves, the normalised score, the
seeds needed per pair and the seed report's recommendation (`OneTask`).

Every report is this comparison: one task's report and a suite's are two layouts of it
(`hpo.analysis.summary.TaskSummary`, `hpo.analysis.suite.SuiteSummary`), which compute
nothing of their own.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, TypedDict

import numpy as np

from hpo.analysis import stats
from hpo.analysis.anytime import Anytime, anytime
from hpo.analysis.budget import OverBudget, over_budget
from hpo.analysis.hypervolume import HypervolumeBlock, hypervolume_block
from hpo.analysis.paired import (
    MIN_SEEDS_FOR_CD,
    Pair,
    Ranks,
    SmallestEffect,
    counts,
    holm_in_place,
    in_shares,
    pair,
    ranks,
    smallest_effect_of,
)
from hpo.analysis.replayed import replayed_from
from hpo.analysis.tasks import JudgedTask, judged_tasks, suite_order
from hpo.analysis.verdict import REFERENCES, Recommendation, recommendation
from hpo.analysis.workers import AcrossWorkers, across_workers, as_arms
from hpo.errors import HpoError
from hpo.experiment.profiles import DEFAULT_TASK
from hpo.experiment.results import CellResult, Results, trial_engines

# What the seed report printed, from a run its own footnote calls simulated.
CLAIMED = {
    "hyperband": {"best_val_accuracy": 0.96, "wall_time_s": 15 * 60.0},
    "bayesian": {"best_val_accuracy": 0.97, "wall_time_s": 20 * 60.0},
}


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


class AcrossTasks(TypedDict):
    """Ranks over (task, seed) blocks and wins/ties/losses over tasks."""

    tuners: list[str]
    blocks: int
    tasks: list[str]
    friedman: Ranks | None
    average_ranks: dict[str, float] | None
    per_task_ranks: dict[str, dict[str, float]]
    wins_ties_losses: dict[str, dict[str, list[int]]]


@dataclass(frozen=True)
class PairedTask:
    """One task's records paired by seed, and the tuners compared on them.

    `seeds` are those every tuner completed; `scores` the test score as the tests take
    it, per tuner in seed order: correct test rows where the score counts them, else the
    score itself (R², or the task's own). `score_pairs` and `time_pairs` are each one
    Holm family over the task's pairs of tuners.
    """

    task: JudgedTask
    tuners: list[str]
    seeds: list[int]
    all_seeds: list[int]
    by_key: dict[tuple[str, int], CellResult]
    alpha: float
    scores: dict[str, np.ndarray]
    score_pairs: list[Pair]
    time_pairs: list[Pair]
    friedman: Ranks | None
    hypervolume: HypervolumeBlock | None
    smallest_effect: SmallestEffect

    @property
    def name(self) -> str:
        return self.task.name

    @property
    def counts(self) -> bool:
        """Whether the test score counts correct test rows (accuracy)."""
        return not self.task.regression

    @property
    def first(self) -> CellResult:
        return self.by_key[self.tuners[0], self.seeds[0]]

    @property
    def n_train(self) -> int:
        return self.first.n_train

    @property
    def n_val(self) -> int:
        return self.first.n_val

    @property
    def n_test(self) -> int:
        return self.first.n_test

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    @property
    def n_pairs(self) -> int:
        return max(1, len(self.tuners) * (len(self.tuners) - 1) // 2)

    @property
    def min_p_value(self) -> float:
        """The smallest two-sided Wilcoxon p-value these seeds allow."""
        return stats.min_wilcoxon_p(self.n_seeds)

    @property
    def min_p_adjusted(self) -> float:
        """The same after Holm across the task's pairs."""
        return min(1.0, self.n_pairs * self.min_p_value)

    @property
    def min_seeds_for_any_verdict(self) -> int:
        return stats.min_seeds_for_any_verdict(self.n_pairs, self.alpha)

    def cells(self, tuner: str) -> list[CellResult]:
        """The tuner's records on the paired seeds, in seed order."""
        return [self.by_key[tuner, s] for s in self.seeds]

    def values(self, field: str) -> dict[str, list[float]]:
        """A record field per tuner over the paired seeds."""
        return {t: [float(getattr(c, field)) for c in self.cells(t)] for t in self.tuners}

    def failures(self) -> dict[str, list[dict[str, Any]]]:
        """Every failed trial of the task's records, per tuner: seed, trial and error."""
        out: dict[str, list[dict[str, Any]]] = {}
        for c in self.by_key.values():
            for h in c.history:
                if not h.completed:
                    out.setdefault(c.tuner, []).append(
                        {"seed": c.seed, "trial_id": h.trial_id, "error": h.error}
                    )
        return out

    def dropped(self, stopped: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Seeds left out of the comparisons: which tuner has no record there, and why if
        a stopped cell says."""
        out = []
        for s in sorted(set(self.all_seeds) - set(self.seeds)):
            missing = [t for t in self.tuners if (t, s) not in self.by_key]
            reasons = [
                {"tuner": x["tuner"], "reason": x["reason"]}
                for x in stopped
                if x["seed"] == s and x["tuner"] in missing
            ]
            out.append({"seed": s, "missing": missing, "stopped": reasons})
        return out

    @cached_property
    def seeds_needed(self) -> dict[tuple[str, str], list[int | None] | None]:
        """Per pair of tuners, the seeds needed to detect its observed test-score difference
        with 80 % power (`stats.seeds_needed_range`, Holm over the task's pairs)."""
        return {
            (p["a"], p["b"]): stats.seeds_needed_range(
                np.subtract(self.scores[p["a"]], self.scores[p["b"]]),
                n_comparisons=self.n_pairs,
            )
            for p in self.score_pairs
        }


def check_smallest_effect(value: float | None) -> None:
    """HpoError unless `value` is None (the default) or a positive finite number."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise HpoError(f"the smallest effect that matters must be a positive number, got {value}")


def score_rows(cells: Sequence[CellResult], task: JudgedTask) -> np.ndarray:
    """Test scores as the paired tests take them, shape (n_cells,): correct rows, or the
    score itself (R², or the task's own)."""
    if task.regression:
        return np.asarray([c.test_score for c in cells], dtype=float)
    return counts("test_accuracy", [c.test_score for c in cells], cells[0].n_test)


def _family(
    table: Mapping[str, np.ndarray], metric: str, alpha: float, margin: float | None = None
) -> list[Pair]:
    """Every pair of `table`'s tuners compared on `metric`, Holm-corrected as one family."""
    rows = [
        pair(a, b, metric, table[a], table[b], margin=margin, alpha=alpha)
        for a, b in itertools.combinations(table, 2)
    ]
    holm_in_place(rows, alpha)
    return rows


def compare_task(
    cells: Sequence[CellResult],
    task: JudgedTask,
    alpha: float = stats.ALPHA,
    smallest_effect: float | None = None,
) -> PairedTask:
    """One task's records paired by seed and compared: the one place a task's tests run.

    `smallest_effect`: in test rows where the score counts them, else in the score's
    units (None: one row, or 0.01).
    """
    check_smallest_effect(smallest_effect)
    tuners = list(dict.fromkeys(c.tuner for c in cells))
    by_key = {(c.tuner, c.seed): c for c in cells}
    seeds = sorted(set.intersection(*({c.seed for c in cells if c.tuner == t} for t in tuners)))
    if not seeds:
        raise HpoError(f"task {task.name}: no seed was run by every tuner: nothing to pair")
    scores = {t: score_rows([by_key[t, s] for s in seeds], task) for t in tuners}
    n_test = cells[0].n_test
    margin = smallest_effect_of(smallest_effect, not task.regression, task.score_name, n_test)
    score_pairs = _family(scores, "test_score", alpha, margin["value"])
    if not task.regression:  # in rows, and as a share of the test rows
        for p in score_pairs:
            in_shares(p, n_test)
    times = {t: np.asarray([by_key[t, s].wall_time_s for s in seeds], float) for t in tuners}
    return PairedTask(
        task=task,
        tuners=tuners,
        seeds=seeds,
        all_seeds=sorted({c.seed for c in cells}),
        by_key=by_key,
        alpha=alpha,
        scores=scores,
        score_pairs=score_pairs,
        time_pairs=_family(times, "wall_time_s", alpha),
        friedman=ranks(scores, alpha),
        hypervolume=hypervolume_block(by_key, tuners, seeds, alpha, task),
        smallest_effect=margin,
    )


def across_tasks(per_task: Mapping[str, PairedTask], alpha: float) -> AcrossTasks | None:
    """Ranks over (task, seed) blocks and wins/ties/losses over tasks, for the tuners every
    task ran. None with one task."""
    if len(per_task) < 2:
        return None
    first = next(iter(per_task.values()))
    tuners = [t for t in first.tuners if all(t in s.tuners for s in per_task.values())]
    blocks = [(name, i) for name, s in per_task.items() for i in range(s.n_seeds)]
    table = {
        t: np.array([float(per_task[name].scores[t][i]) for name, i in blocks]) for t in tuners
    }
    friedman = ranks(table, alpha) if len(tuners) >= 3 and len(blocks) >= MIN_SEEDS_FOR_CD else None
    per_task_ranks = {
        name: stats.average_ranks({t: np.array([float(v) for v in s.scores[t]]) for t in tuners})
        for name, s in per_task.items()
    }
    wtl: dict[str, dict[str, list[int]]] = {a: {b: [0, 0, 0] for b in tuners} for a in tuners}
    for s in per_task.values():
        for p in s.score_pairs:
            a, b = p["a"], p["b"]
            if a not in tuners or b not in tuners:
                continue
            if not p["significant"]:
                wtl[a][b][1] += 1
                wtl[b][a][1] += 1
            elif p["mean_difference"] > 0:
                wtl[a][b][0] += 1
                wtl[b][a][2] += 1
            else:
                wtl[a][b][2] += 1
                wtl[b][a][0] += 1
    return {
        "tuners": tuners,
        "blocks": len(blocks),
        "tasks": list(per_task),
        "friedman": friedman,
        "average_ranks": stats.average_ranks(table) if len(tuners) >= 2 else None,
        "per_task_ranks": per_task_ranks,
        "wins_ties_losses": {a: {b: wtl[a][b] for b in tuners if b != a} for a in tuners},
    }


@dataclass(frozen=True)
class OneTask:
    """The sections only one task's records allow (its score counting correct rows): the
    untuned references, the seed report's claims, anytime curves, the normalised score and
    the seed report's recommendation."""

    references: dict[str, Reference] | None
    per_seed_references: dict[str, dict[str, int]] | None
    claimed: dict[str, dict[str, float]]
    anytime: dict[str, Anytime]
    normalised_score: dict[str, float | None] | None
    normalised_score_note: str | None
    recommendation: Recommendation | None


def one_task(task: PairedTask, results: Results, normalise_to: str = "random") -> OneTask:
    """The one-task sections of `task`, the only task of `results`."""
    seeds, n_test = task.seeds, task.n_test
    references = _references(results.references, seeds, task.scores, n_test)
    by_seed = {b["seed"]: b for b in results.references}
    normalised = (
        stats.normalised_scores(task.scores, reference=normalise_to)
        if normalise_to in task.tuners
        else None
    )
    return OneTask(
        references=references,
        per_seed_references=None
        if references is None
        else {
            str(s): {name: int(counts(name, [by_seed[s][name]], n_test)[0]) for name in REFERENCES}
            for s in seeds
        },
        # The seed report's claims are about its task alone.
        claimed={
            t: c for t, c in CLAIMED.items() if t in task.tuners and task.name == DEFAULT_TASK
        },
        anytime={
            axis: anytime({t: task.cells(t) for t in task.tuners}, axis)
            for axis in ("epochs", "seconds")
        },
        normalised_score=normalised,
        normalised_score_note=(
            f"{normalise_to} found the best test accuracy of all tuners on every seed,"
            " so there is no gap to normalise by"
            if normalised is not None and all(v is None for v in normalised.values())
            else None
        ),
        recommendation=recommendation(task.scores, n_test, task.alpha),
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
            "test_accuracy": stats.describe(acc, (0.0, 1.0)),
            "vs_tuners": {},
        }
        for t, rows in test_rows.items():
            row = pair(t, name, "test_accuracy", rows, ref)
            in_shares(row, n_test)
            out[name]["vs_tuners"][t] = row
            family.append(row)
    holm_in_place(family, stats.ALPHA)
    return out


@dataclass(frozen=True)
class Comparison:
    """Every number a report states about `results`: each task compared (`per_task`, in the
    suite's order), the tasks against each other, where the records came from, and the
    one-task sections where the data allow them (`one_task`)."""

    profile: str
    engines: list[str]
    tasks: list[str]
    tuners: list[str]
    alpha: float
    per_task: dict[str, PairedTask]
    across: AcrossTasks | None
    stopped: list[dict[str, Any]]
    provenance: Provenance
    one_task: OneTask | None
    over_budget: OverBudget | None = None  # regret and ranks against budget (budget.py)
    workers: AcrossWorkers | None = None  # one tuner across k workers (workers.py)


def compare(
    results: Results,
    alpha: float = stats.ALPHA,
    normalise_to: str = "random",
    budgets: Mapping[str, str] | None = None,
    smallest_effect: float | None = None,
    sections: bool = True,
) -> Comparison:
    """The comparison of `results` (one profile; one task or many).

    `normalise_to`: the tuner that scores 1 in the normalised score (0 = best seen on each
    seed). `budgets`: each tuner's planned budget in words, for the provenance (the
    analysis imports no tuner). `smallest_effect`: in each task's unit (test rows, or
    the score's); refused when the tasks' units differ, where one number would mean
    different things. `sections`: attach the one-task sections where the data allow.
    """
    check_smallest_effect(smallest_effect)
    profiles = sorted({c.profile for c in results.cells})
    if len(profiles) > 1:
        raise HpoError(f"results mix profiles {', '.join(profiles)}; report one at a time")
    judged = judged_tasks(results.cells)  # once: how each task's records are judged
    tasks = suite_order(c.task for c in results.cells)  # built-in tasks first, not merge order
    workers = across_workers(
        {name: [c for c in results.cells if c.task == name] for name in tasks}, judged
    )
    results = as_arms(results)  # records of k > 1 workers, beside k = 1 ones: TUNER@k
    cells = results.cells
    units = {name: "test rows" if not judged[name].regression else judged[name].score_name
             for name in tasks}  # fmt: skip
    if smallest_effect is not None and len(set(units.values())) > 1:
        said = ", ".join(f"{u} on {name}" for name, u in units.items())
        raise HpoError(
            f"a smallest effect of {smallest_effect:g} would be counted in {said}:"
            " report tasks whose scores differ separately to set it"
        )
    per_task = {
        name: compare_task([c for c in cells if c.task == name], judged[name], alpha,
                           smallest_effect)
        for name in tasks
    }  # fmt: skip
    tuners = list(dict.fromkeys(c.tuner for c in cells))
    only = per_task[tasks[0]] if len(tasks) == 1 else None
    return Comparison(
        profile=profiles[0],
        engines=trial_engines(cells),
        tasks=tasks,
        tuners=tuners,
        alpha=alpha,
        per_task=per_task,
        across=across_tasks(per_task, alpha),
        stopped=results.stopped,
        provenance=provenance(results, tuners, budgets),
        one_task=one_task(only, results, normalise_to)
        if sections and only is not None and only.counts
        else None,
        over_budget=over_budget(
            {name: [c for t in p.tuners for c in p.cells(t)] for name, p in per_task.items()},
            judged,
            alpha,
            normalise_to,
        ),
        workers=workers,
    )


def provenance(
    results: Results, tuners: list[str], budgets: Mapping[str, str] | None
) -> Provenance:
    """Where the records came from and what made them: runs, code, versions, calibration."""

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
