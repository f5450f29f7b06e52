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
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict

import numpy as np

from hpo.analysis import stats
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
    practical_sentence,
    ranks,
    smallest_effect_of,
)
from hpo.analysis.replayed import replayed_from, replayed_words
from hpo.analysis.tasks import JudgedTask, judged_tasks, suite_order
from hpo.errors import HpoError
from hpo.experiment.results import CellResult, Results, trial_engines


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
            }
        )

    def conclusions(self) -> list[str]:
        """The verdict, as a terminal prints it (first, for replayed cells, where their
        results come from)."""
        words = replayed_words(self.replayed)
        lines = [self.verdict.replace("**", "")]
        return lines if words is None else [f"Results {words}.", *lines]


def score_rows(cells: Sequence[CellResult], task: JudgedTask) -> np.ndarray:
    """Test scores as the paired tests take them, shape (n_cells,): correct rows, or the
    score itself (R², or the task's own)."""
    if task.regression:
        return np.asarray([c.test_score for c in cells], dtype=float)
    return counts("test_accuracy", [c.test_score for c in cells], cells[0].n_test)


def _paired_cells(cells: Sequence[CellResult]) -> tuple[list[str], list[int], dict]:
    tuners = list(dict.fromkeys(c.tuner for c in cells))
    by_key = {(c.tuner, c.seed): c for c in cells}
    seeds = sorted(set.intersection(*({c.seed for c in cells if c.tuner == t} for t in tuners)))
    return tuners, seeds, by_key


def _compare(
    table: dict[str, np.ndarray], metric: str, alpha: float, margin: float | None = None
) -> list[Pair]:
    rows = [
        pair(a, b, metric, table[a], table[b], margin=margin, alpha=alpha)
        for a, b in itertools.combinations(table, 2)
    ]
    holm_in_place(rows, alpha)
    return rows


def check_smallest_effect(value: float | None) -> None:
    """HpoError unless `value` is None (the default) or a positive finite number."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise HpoError(f"the smallest effect that matters must be a positive number, got {value}")


def _unit(task: JudgedTask) -> str:
    """What a smallest effect given for `task` is counted in: test rows, or its score."""
    return task.score_name if task.regression else "test rows"


def task_summary(
    cells: Sequence[CellResult],
    alpha: float = stats.ALPHA,
    task: JudgedTask | None = None,
    smallest_effect: float | None = None,
) -> TaskComparison:
    """One task's comparison: test score and hypervolume per tuner, paired by seed.

    `task`: how to judge it (`hpo.analysis.tasks.judged_tasks`; by default, from `cells`).
    `smallest_effect`: the smallest effect that matters, in test rows where the score
    counts them, else in the score's units (None: one row, or 0.01).
    """
    check_smallest_effect(smallest_effect)
    if task is None:
        task = judged_tasks(cells)[cells[0].task]
    tuners, seeds, by_key = _paired_cells(cells)
    if not seeds:
        raise HpoError(f"task {task.name}: no seed was run by every tuner: nothing to pair")
    paired = {t: [by_key[t, s] for s in seeds] for t in tuners}
    scores = {t: score_rows(group, task) for t, group in paired.items()}
    n_test = cells[0].n_test
    margin = smallest_effect_of(smallest_effect, not task.regression, task.score_name, n_test)
    pairs = _compare(scores, "test_score", alpha, margin["value"])
    if not task.regression:  # in rows, and as a share of the test rows
        for p in pairs:
            in_shares(p, n_test)
    bounds = task.score_bounds
    return {
        "task": task.name,
        "score": task.score_name,
        "objective": task.objective,
        "tuners": tuners,
        "seeds": seeds,
        "n_seeds": len(seeds),
        "dropped_seeds": sorted({c.seed for c in cells} - set(seeds)),
        "n_train": cells[0].n_train,
        "n_val": cells[0].n_val,
        "n_test": n_test,
        "per_tuner": {
            t: {
                "test_score": stats.describe([c.test_score for c in group], bounds),
                "wall_time_s": stats.describe([c.wall_time_s for c in group], (0.0, np.inf)),
                "epochs_trained": stats.describe_fixed([c.epochs_trained for c in group]),
                "pareto_size": stats.describe([len(c.pareto or []) for c in group]),
            }
            for t, group in paired.items()
        },
        "per_seed": {str(s): {t: float(scores[t][i]) for t in tuners} for i, s in enumerate(seeds)},
        "pairs": pairs,
        "friedman": ranks(scores, alpha),
        "hypervolume": hypervolume_block(by_key, tuners, seeds, alpha, task),
        "min_p_adjusted": min(
            1.0, max(1, len(tuners) * (len(tuners) - 1) // 2) * stats.min_wilcoxon_p(len(seeds))
        ),
        "smallest_effect": margin,
    }


def across_tasks(per_task: Mapping[str, TaskComparison], alpha: float) -> AcrossTasks | None:
    """Ranks over (task, seed) blocks and wins/ties/losses over tasks, for the tuners every
    task ran. None with one task."""
    if len(per_task) < 2:
        return None
    tuners = [t for t in next(iter(per_task.values()))["tuners"]
              if all(t in s["tuners"] for s in per_task.values())]  # fmt: skip
    blocks = [(name, seed) for name, s in per_task.items() for seed in s["seeds"]]
    table = {
        t: np.array([per_task[name]["per_seed"][str(seed)][t] for name, seed in blocks])
        for t in tuners
    }
    friedman = ranks(table, alpha) if len(tuners) >= 3 and len(blocks) >= MIN_SEEDS_FOR_CD else None
    per_task_ranks = {
        name: stats.average_ranks({t: np.array(list(s["per_seed"][str(seed)][t]
                                                    for seed in s["seeds"])) for t in tuners})
        for name, s in per_task.items()
    }  # fmt: skip
    wtl: dict[str, dict[str, list[int]]] = {a: {b: [0, 0, 0] for b in tuners} for a in tuners}
    for s in per_task.values():
        for p in s["pairs"]:
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


def summarize_suite(
    results: Results,
    alpha: float = stats.ALPHA,
    judged: Mapping[str, JudgedTask] | None = None,
    smallest_effect: float | None = None,
) -> SuiteSummary:
    """The summary of results over several tasks (or a task whose test score is not accuracy).

    `judged`: how to judge each task (`hpo.analysis.tasks.judged_tasks`; by default, from
    the results). `smallest_effect`: the smallest effect that matters, in each task's
    unit (test rows, or the score's); refused when the tasks' units differ, where one
    number would mean different things (None: each task's default).
    """
    check_smallest_effect(smallest_effect)
    profiles = sorted({c.profile for c in results.cells})
    if len(profiles) > 1:
        raise HpoError(f"results mix profiles {', '.join(profiles)}; report one at a time")
    judged = judged if judged is not None else judged_tasks(results.cells)
    # The suite's order (built-in tasks first), not the order the records were merged in.
    tasks = suite_order(c.task for c in results.cells)
    units = {name: _unit(judged[name]) for name in tasks}
    if smallest_effect is not None and len(set(units.values())) > 1:
        said = ", ".join(f"{u} on {name}" for name, u in units.items())
        raise HpoError(
            f"a smallest effect of {smallest_effect:g} would be counted in {said}:"
            " report tasks whose scores differ separately to set it"
        )
    per_task = {
        name: task_summary(
            [c for c in results.cells if c.task == name],
            alpha,
            judged[name],
            smallest_effect,
        )
        for name in tasks
    }
    across = across_tasks(per_task, alpha)
    return SuiteSummary(
        profile=profiles[0],
        engines=trial_engines(results.cells),
        tasks=tasks,
        tuners=list(dict.fromkeys(c.tuner for c in results.cells)),
        alpha=alpha,
        per_task=per_task,
        across_tasks=across,
        stopped=results.stopped,
        report_written=datetime.now(UTC).isoformat(timespec="seconds"),
        runs=[{k: v for k, v in p.items() if v is not None} for p in results.provenance],
        verdict=_verdict_text(per_task, across, alpha),
        replayed=replayed_from(results.cells),
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
