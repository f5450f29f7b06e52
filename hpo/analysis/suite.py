"""Tuners over several tasks, and accuracy against size: the suite's numbers and verdicts.

Per task, each tuner's test score (correct test rows for classification, R²
for regression) and the hypervolume of its trials' accuracy-versus-size set
(`hpo.analysis.pareto`) are compared pair by pair with the paired Wilcoxon test over
that task's seeds, Holm-corrected across the pairs of the task.

Across tasks, every (task, seed) is one block, as in HPOBench, YAHPO Gym and
CARP-S: tuners are ranked within each block on the test score, the average
ranks are tested with Friedman's test and the Nemenyi critical difference
(Demšar 2006, as for one task: `hpo.analysis.paired`), and a wins/ties/losses table
counts, per pair of tuners, the tasks where one beats the other by the task's
paired test (a tie is a task where the test does not separate them, not where
the means are equal).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from hpo.analysis import stats
from hpo.analysis.paired import (
    MIN_SEEDS_FOR_CD,
    counts,
    critical_difference,
    holm_in_place,
    pair,
    seeds_text,
)
from hpo.analysis.pareto import REFERENCE_POINT, hypervolume, hypervolume_curve, trial_points
from hpo.errors import HpoError
from hpo.experiment.results import CellResult, Results
from hpo.experiment.tasks import TASKS, Task, get_task


def cell_hypervolume(cell: CellResult) -> float | None:
    """The hypervolume of every completed trial of the cell (that of its Pareto set); None
    for a record made before trials recorded their model's size."""
    if any("params" not in h for h in cell.history):
        return None
    task = get_task(cell.task)
    return hypervolume([(e, s) for _, e, s in trial_points(cell.history, task)])


def score_rows(cells: Sequence[CellResult], task: Task) -> np.ndarray:
    """Test scores as the paired tests take them: correct rows, or R² as it is."""
    if task.regression:
        return np.asarray([c.test_score for c in cells], dtype=float)
    return counts("test_accuracy", [c.test_score for c in cells], cells[0].n_test)


def _paired_cells(cells: Sequence[CellResult]) -> tuple[list[str], list[int], dict]:
    tuners = list(dict.fromkeys(c.tuner for c in cells))
    by_key = {(c.tuner, c.seed): c for c in cells}
    seeds = sorted(set.intersection(*({c.seed for c in cells if c.tuner == t} for t in tuners)))
    return tuners, seeds, by_key


def _compare(table: dict[str, np.ndarray], metric: str, alpha: float) -> list[dict[str, Any]]:
    rows = [pair(a, b, metric, table[a], table[b]) for a, b in itertools.combinations(table, 2)]
    holm_in_place(rows, alpha)
    return rows


def _ranks(table: dict[str, np.ndarray], alpha: float) -> dict[str, Any] | None:
    """Average ranks (1 = best, higher values better), Friedman p and the Nemenyi CD."""
    if len(table) < 3:
        return None
    out = {
        "p_value": stats.friedman_p(table),
        "average_ranks": stats.average_ranks(table),
        "critical_difference": None,
    }
    cd = critical_difference(table, alpha)
    if cd is not None:
        out.update(cd)
    return out


def hypervolume_block(
    by_key: dict, tuners: list[str], seeds: list[int], alpha: float
) -> dict[str, Any] | None:
    """Hypervolume per tuner over seeds, its paired comparisons, ranks and anytime curve
    (None if a record predates model sizes)."""
    values = {t: [cell_hypervolume(by_key[t, s]) for s in seeds] for t in tuners}
    if any(v is None for vs in values.values() for v in vs):
        return None
    table = {t: np.array(v, dtype=float) for t, v in values.items()}
    pairs = _compare(table, "hypervolume", alpha)
    for p in pairs:
        p["seeds_needed"] = stats.seeds_needed_range(
            table[p["a"]] - table[p["b"]], n_comparisons=len(pairs)
        )
    block: dict[str, Any] = {
        "reference_point": list(REFERENCE_POINT),
        "per_tuner": {t: stats.describe(v, (0.0, 1.0)) for t, v in table.items()},
        "per_seed": {str(s): {t: float(table[t][i]) for t in tuners} for i, s in enumerate(seeds)},
        "pairs": pairs,
        "friedman": _ranks(table, alpha),
        "anytime_epochs": _hypervolume_anytime({t: [by_key[t, s] for s in seeds] for t in tuners}),
    }
    block["text"] = hypervolume_verdict(block, len(seeds))
    return block


def hypervolume_verdict(block: dict[str, Any], n_seeds: int) -> str:
    """One sentence: which tuners' accuracy-versus-size sets are larger, and how sure."""
    method = f"paired Wilcoxon over {n_seeds} seeds, Holm across pairs"
    wins = []
    for p in block["pairs"]:
        if p["significant"]:
            better, worse = (p["a"], p["b"]) if p["mean_difference"] > 0 else (p["b"], p["a"])
            a12 = max(p["effect_size"], 1 - p["effect_size"])
            wins.append(
                f"**{better}** > {worse} by {abs(p['mean_difference']):.3f}"
                f" (p_adj {p['p_adjusted']:.3f}, A12 {a12:.2f})"
            )
    means = {t: d["mean"] for t, d in block["per_tuner"].items()}
    top = max(means, key=lambda t: means[t])
    friedman = block["friedman"]
    tail = f"; Friedman p {friedman['p_value']:.3f}" if friedman else ""
    if wins:
        return f"Accuracy against size, hypervolume ({method}): " + "; ".join(wins) + "."
    open_pairs = [p for p in block["pairs"] if top in (p["a"], p["b"])]
    needed = "; ".join(
        f"{p['b'] if p['a'] == top else p['a']}: {seeds_text(p)}" for p in open_pairs
    )
    return (
        f"Accuracy against size, hypervolume ({method}): no pair differs. Highest mean:"
        f" {top} {means[top]:.3f}{tail}. Seeds needed to tell {top} from the others with 80 %"
        f" power, estimated: {needed}."
    )


def _hypervolume_anytime(cells: dict[str, list[CellResult]]) -> dict[str, Any]:
    """Median (and quartiles) over seeds of the hypervolume so far, against epochs trained."""
    out: dict[str, Any] = {}
    for tuner, group in cells.items():
        curves = []
        for c in group:
            xs = np.cumsum([h["epochs"] for h in c.history]).tolist()
            curves.append((xs, hypervolume_curve(c.history, get_task(c.task))))
        horizon = max(xs[-1] for xs, _ in curves)
        grid = np.linspace(0, horizon, stats.ANYTIME_POINTS)
        matrix = np.array([stats.best_so_far(xs, hv, grid) for xs, hv in curves])
        complete = ~np.any(np.isnan(matrix), axis=0)  # from where every seed has a model
        q25, q50, q75 = np.full((3, len(grid)), np.nan)
        if complete.any():
            q25[complete], q50[complete], q75[complete] = np.percentile(
                matrix[:, complete], [25, 50, 75], axis=0
            )
        out[tuner] = {
            "grid": grid.tolist(),
            "median": q50.tolist(),
            "q25": q25.tolist(),
            "q75": q75.tolist(),
        }
    return out


def task_summary(cells: Sequence[CellResult], alpha: float = stats.ALPHA) -> dict[str, Any]:
    """One task's comparison: test score and hypervolume per tuner, paired by seed."""
    task = get_task(cells[0].task)
    tuners, seeds, by_key = _paired_cells(cells)
    if not seeds:
        raise HpoError(f"task {task.name}: no seed was run by every tuner: nothing to pair")
    paired = {t: [by_key[t, s] for s in seeds] for t in tuners}
    scores = {t: score_rows(group, task) for t, group in paired.items()}
    n_test = cells[0].n_test
    pairs = _compare(scores, "test_score", alpha)
    if not task.regression:  # in rows, and as a share of the test rows
        for p in pairs:
            p["mean_difference_rows"] = p["mean_difference"]
            p["mean_difference"] = p["mean_difference"] / n_test
    bounds = (-np.inf, 1.0) if task.regression else (0.0, 1.0)
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
        "friedman": _ranks(scores, alpha),
        "hypervolume": hypervolume_block(by_key, tuners, seeds, alpha),
        "min_p_adjusted": min(
            1.0, max(1, len(tuners) * (len(tuners) - 1) // 2) * stats.min_wilcoxon_p(len(seeds))
        ),
    }


def across_tasks(per_task: dict[str, dict[str, Any]], alpha: float) -> dict[str, Any] | None:
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
    ranks = _ranks(table, alpha) if len(tuners) >= 3 and len(blocks) >= MIN_SEEDS_FOR_CD else None
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
        "friedman": ranks,
        "average_ranks": stats.average_ranks(table) if len(tuners) >= 2 else None,
        "per_task_ranks": per_task_ranks,
        "wins_ties_losses": {a: {b: wtl[a][b] for b in tuners if b != a} for a in tuners},
    }


def summarize_suite(results: Results, alpha: float = stats.ALPHA) -> dict[str, Any]:
    """summary.json for results over several tasks (or a regression task)."""
    profiles = sorted({c.profile for c in results.cells})
    if len(profiles) > 1:
        raise HpoError(f"results mix profiles {', '.join(profiles)}; report one at a time")
    order = list(TASKS)  # the suite's order, not the order the records were merged in
    tasks = sorted({c.task for c in results.cells}, key=lambda t: (order.index(t), t))
    per_task = {
        name: task_summary([c for c in results.cells if c.task == name], alpha) for name in tasks
    }
    summary: dict[str, Any] = {
        "kind": "suite",
        "profile": profiles[0],
        "engines": sorted({c.engine for c in results.cells}),
        "tasks": tasks,
        "tuners": list(dict.fromkeys(c.tuner for c in results.cells)),
        "alpha": alpha,
        "per_task": per_task,
        "across_tasks": across_tasks(per_task, alpha),
        "stopped": results.stopped,
        "report_written": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": [{k: v for k, v in p.items() if v is not None} for p in results.provenance],
    }
    summary["verdict"] = {"text": _verdict_text(summary), "winner": None}
    summary["winner"] = None
    return summary


def _verdict_text(summary: dict[str, Any]) -> str:
    parts = []
    across = summary["across_tasks"]
    if across and across["friedman"]:
        f = across["friedman"]
        ranks = ", ".join(f"{t} {r:.2f}" for t, r in sorted(f["average_ranks"].items(),
                                                              key=lambda kv: kv[1]))  # fmt: skip
        parts.append(
            f"Across {len(across['tasks'])} tasks ({across['blocks']} task × seed blocks), average"
            f" ranks on the test score (1 = best): {ranks}; Friedman p {f['p_value']:.3g}"
            + (
                f", critical difference {f['critical_difference']:.2f}."
                if f["critical_difference"] is not None
                else "."
            )
        )
    for name, s in summary["per_task"].items():
        sig = [p for p in s["pairs"] if p["significant"]]

        def said(p: dict[str, Any]) -> str:
            better, worse = (p["a"], p["b"]) if p["mean_difference"] > 0 else (p["b"], p["a"])
            return f"{better} > {worse} (p_adj {p['p_adjusted']:.3f})"

        text = f"{name} ({s['n_seeds']} seeds): test {s['score']} " + (
            "; ".join(map(said, sig)) if sig else "no pair differs"
        )
        if s["hypervolume"] is not None:
            hv = [p for p in s["hypervolume"]["pairs"] if p["significant"]]
            text += "; hypervolume " + ("; ".join(map(said, hv)) if hv else "no pair differs")
        parts.append(text + ".")
    return " ".join(parts)
