"""From cell records to the numbers and the verdict: what summary.json holds.

Every accuracy enters a test as a count of correct rows (`stats.correct_rows`),
so equal accuracies from Keras (float32) and scikit-learn (float64) are ties.
Comparisons use only the seeds every tuner completed; the summary says which
seeds were dropped and why.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from hpo.analysis import stats
from hpo.analysis.paired import counts, critical_difference, holm_in_place, pair, seeds_text
from hpo.analysis.suite import hypervolume_block, summarize_suite
from hpo.errors import HpoError
from hpo.experiment.profiles import DEFAULT_TASK, PROFILES, Profile
from hpo.experiment.results import CellResult, Results
from hpo.experiment.tasks import get_task

METRICS: list[tuple[str, str, bool, str]] = [
    ("best_val_accuracy", "best val acc (biased)", True, "accuracy"),
    ("test_accuracy", "test acc", True, "accuracy"),
    ("test_loss", "test loss", False, "loss"),
    ("wall_time_s", "time (s)", False, "time"),
    ("epochs_trained", "epochs", False, "fixed"),
    ("trials_completed", "trials", False, "fixed"),
]
HIGHER_IS_BETTER = {m: h for m, _, h, _ in METRICS}
BOUNDS = {"accuracy": (0.0, 1.0), "loss": (0.0, math.inf), "time": (0.0, math.inf)}
COMPARED = ["test_accuracy", "wall_time_s"]  # the paired tests' metrics
REFERENCES = {  # untuned models on the same splits (hpo.run.references)
    "default_mlp": "untuned MLP (1 × 64 relu, lr 0.001, 50 epochs)",
    "logistic_regression": "LogisticRegression",
}
# What the seed report printed, from a run its own footnote calls simulated.
CLAIMED = {
    "hyperband": {"best_val_accuracy": 0.96, "wall_time_s": 15 * 60.0},
    "bayesian": {"best_val_accuracy": 0.97, "wall_time_s": 20 * 60.0},
}
# The seed report's recommended workflow and the tuners it combines.
HYBRID = ("hyperband-bayesian", ("hyperband", "bayesian"))


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
    """Accuracies as counts of correct rows; other metrics as they are."""
    if metric == "test_accuracy":
        return counts(metric, values, n_test)
    if metric == "best_val_accuracy":
        return counts(metric, values, n_val)
    return np.asarray(values, dtype=float)


def _better_worse(a: str, b: str, mean_difference: float, metric: str) -> tuple[str, str]:
    a_better = (mean_difference > 0) == HIGHER_IS_BETTER.get(metric, True)
    return (a, b) if a_better else (b, a)


def _anytime(cells: dict[str, list[CellResult]], axis: str) -> dict[str, Any]:
    """Best-so-far val accuracy per tuner, each to its own full budget, and comparable areas.

    A median over seeds is drawn from the first point at which every seed of
    that tuner has a model: best-so-far curves never fall, so neither does a
    median over a fixed set of them (seeds entering one by one could pull it
    down). Areas are integrated exactly from `start`, the first point at which
    every tuner has a model, to each tuner's own end, and divided by the length
    integrated: equal scores give equal areas whatever the budgets.
    """

    def xs(c: CellResult) -> list[float]:
        if axis == "epochs":
            return np.cumsum([h["epochs"] for h in c.history]).tolist()
        return [h["elapsed_s"] for h in c.history]

    def scores(c: CellResult) -> list[float | None]:
        return [h["val_accuracy"] for h in c.history]

    everyone = [c for group in cells.values() for c in group]
    start = max(stats.first_model_at(xs(c), scores(c)) for c in everyone)
    out: dict[str, Any] = {"start": start, "per_tuner": {}}
    for tuner, group in cells.items():
        horizon = max(xs(c)[-1] for c in group)
        grid = np.linspace(0, horizon, stats.ANYTIME_POINTS)
        matrix = np.array([stats.best_so_far(xs(c), scores(c), grid) for c in group])
        complete = ~np.any(np.isnan(matrix), axis=0)
        q25, q50, q75 = np.full((3, len(grid)), np.nan)
        if complete.any():
            q25[complete], q50[complete], q75[complete] = np.percentile(
                matrix[:, complete], [25, 50, 75], axis=0
            )
        areas = [stats.step_area(xs(c), scores(c), start, horizon) for c in group]
        out["per_tuner"][tuner] = {
            "horizon": float(horizon),
            "grid": grid.tolist(),
            "median": q50.tolist(),
            "q25": q25.tolist(),
            "q75": q75.tolist(),
            "area": stats.describe([a for a in areas if not math.isnan(a)]),
        }
    return out


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


def _seed_estimates(pairs: list[dict[str, Any]], tables: dict, n_comparisons: int) -> None:
    for p in pairs:
        if p["metric"] != "test_accuracy":
            continue
        diffs = np.subtract(tables[p["metric"]][p["a"]], tables[p["metric"]][p["b"]])
        p["seeds_needed"] = stats.seeds_needed_range(diffs, n_comparisons=n_comparisons)


def _provenance(
    results: Results, cells: Sequence[CellResult], tuners: list[str], profile: str
) -> dict[str, Any]:
    def distinct(values: Any) -> list[Any]:
        return sorted({v for v in values if v is not None}, key=str)

    calibrations = distinct(c.calibration_s for c in cells)
    prof = PROFILES.get(profile)
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
        "budgets": {t: _budget_text(t, prof) for t in tuners} if prof else None,
    }


def _budget_text(tuner: str, profile: Profile) -> str:
    from hpo.tuners import get_tuner

    try:
        spec = get_tuner(tuner)
    except HpoError as e:  # a MODULE:ATTR tuner not importable where the report is made
        return f"not known here ({e})"
    budget = spec.budget(profile)
    return f"{spec.describe(profile)}: {budget.trials} trials, {budget.epochs} epochs"


def summarize(
    results: Results, alpha: float = stats.ALPHA, normalise_to: str = "random"
) -> dict[str, Any]:
    """Everything the report says, as plain data (this is summary.json).

    `normalise_to` is the tuner that scores 1 in the bayesmark-style normalised
    score (0 = best seen on each seed), when it is among the results.
    """
    tasks = list(dict.fromkeys(c.task for c in results.cells))
    if len(tasks) > 1 or get_task(tasks[0]).regression:
        return summarize_suite(results, alpha)
    tuners, seeds, all_seeds, by_key = _paired(results.cells)
    profile = results.cells[0].profile
    n_val = results.cells[0].n_val
    n_test = results.cells[0].n_test
    values = {
        m: {t: [float(getattr(by_key[t, s], m)) for s in seeds] for t in tuners}
        for m, _, _, _ in METRICS
    }
    tables = {m: {t: _rows(m, values[m][t], n_val, n_test) for t in tuners} for m in COMPARED}
    per_tuner = {
        t: {
            m: stats.describe_fixed(values[m][t])
            if kind == "fixed"
            else stats.describe(values[m][t], BOUNDS[kind])
            for m, _, _, kind in METRICS
        }
        for t in tuners
    }

    n_pairs = max(1, len(tuners) * (len(tuners) - 1) // 2)
    pairs: list[dict[str, Any]] = []
    for metric in COMPARED:
        rows = [
            pair(a, b, metric, tables[metric][a], tables[metric][b])
            for a, b in itertools.combinations(tuners, 2)
        ]
        holm_in_place(rows, alpha)
        pairs.extend(rows)
    for p in pairs:
        if p["metric"] == "test_accuracy":
            p["mean_difference_rows"] = p["mean_difference"]
            p["mean_difference"] = p["mean_difference"] / n_test
    _seed_estimates(pairs, tables, n_pairs)

    summary: dict[str, Any] = {
        "task": tasks[0],
        "profile": profile,
        "engines": sorted({c.engine for c in results.cells}),
        "tuners": tuners,
        "seeds": seeds,
        "n_seeds": len(seeds),
        "n_val": n_val,
        "n_test": n_test,
        "alpha": alpha,
        "per_tuner": per_tuner,
        "pairs": pairs,
        "min_p_value": stats.min_wilcoxon_p(len(seeds)),
        "min_p_adjusted": min(1.0, n_pairs * stats.min_wilcoxon_p(len(seeds))),
        "min_seeds_for_any_verdict": stats.min_seeds_for_any_verdict(n_pairs, alpha),
        # The seed report's claims are about its task alone.
        "claimed": {t: c for t, c in CLAIMED.items() if t in tuners and tasks == [DEFAULT_TASK]},
        "per_seed": {
            str(s): {t: int(tables["test_accuracy"][t][i]) for t in tuners}
            for i, s in enumerate(seeds)
        },
        "failures": _failures(results.cells),
        "dropped_seeds": _dropped(tuners, seeds, all_seeds, by_key, results.stopped),
        "stopped": results.stopped,
    }
    if len(tuners) >= 3:
        summary["friedman"] = {
            "metric": "test_accuracy",
            "p_value": stats.friedman_p(tables["test_accuracy"]),
            "average_ranks": stats.average_ranks(tables["test_accuracy"]),
            "critical_difference": None,
        }
        cd = critical_difference(tables["test_accuracy"], alpha)
        if cd is not None:
            summary["friedman"].update(cd)
    summary["anytime"] = {
        axis: _anytime({t: [by_key[t, s] for s in seeds] for t in tuners}, axis)
        for axis in ("epochs", "seconds")
    }
    summary["references"] = _references(results.references, seeds, tables["test_accuracy"], n_test)
    if summary["references"] is not None:
        by_seed = {b["seed"]: b for b in results.references}
        summary["per_seed_references"] = {
            str(s): {name: int(counts(name, [by_seed[s][name]], n_test)[0]) for name in REFERENCES}
            for s in seeds
        }
    if normalise_to in tuners:
        scores = stats.normalised_scores(tables["test_accuracy"], reference=normalise_to)
        summary["normalised_score"] = scores
        if all(v is None for v in scores.values()):
            summary["normalised_score_note"] = (
                f"{normalise_to} found the best test accuracy of all tuners on every seed,"
                " so there is no gap to normalise by"
            )
    summary["hypervolume"] = hypervolume_block(by_key, tuners, seeds, alpha)
    summary["provenance"] = _provenance(results, results.cells, tuners, profile)
    summary["recommendation"] = _recommendation(tables["test_accuracy"], n_test, alpha)
    summary["verdict"] = _verdict(summary)
    summary["winner"] = summary["verdict"]["winner"]
    return summary


def _references(
    references: list[dict[str, Any]],
    seeds: list[int],
    test_rows: dict[str, np.ndarray],
    n_test: int,
) -> dict[str, Any] | None:
    """The untuned references against every tuner, Holm-corrected as one family."""
    by_seed = {b["seed"]: b for b in references}
    if not seeds or not all(s in by_seed for s in seeds):
        return None
    out: dict[str, Any] = {}
    family: list[dict[str, Any]] = []
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
            row["mean_difference_rows"] = row["mean_difference"]
            row["mean_difference"] = row["mean_difference"] / n_test
            out[name]["vs_tuners"][t] = row
            family.append(row)
    holm_in_place(family, stats.ALPHA)
    return out


# ---------------------------------------------------------------- verdict


def _recommendation(
    table: dict[str, np.ndarray], n_test: int, alpha: float
) -> dict[str, Any] | None:
    """The seed report's "Hyperband, then Bayesian" against each of its parts run alone.

    A pre-specified claim, so its own family: Wilcoxon on correct test rows per
    seed, Holm across its (at most two) comparisons, not across every pair of
    tuners. None unless `HYBRID` and at least one of its parts were run.
    """
    hybrid, both = HYBRID
    parts = [p for p in both if p in table]
    if hybrid not in table or not parts:
        return None
    rows = [pair(hybrid, part, "test_accuracy", table[hybrid], table[part]) for part in parts]
    holm_in_place(rows, alpha)
    for row in rows:
        diffs = np.subtract(table[hybrid], table[row["b"]])
        row["mean_difference_rows"] = row["mean_difference"]
        row["mean_difference"] = row["mean_difference"] / n_test
        row["seeds_needed"] = stats.seeds_needed_range(diffs, n_comparisons=len(rows))
    n = len(table[hybrid])

    def one(row: dict[str, Any]) -> str:
        diff = row["mean_difference_rows"]
        how = f"{diff:+.1f} rows of {n_test} per seed, p_adj {row['p_adjusted']:.3f}"
        if row["significant"]:
            word = "beats" if diff > 0 else "loses to"
            return f"it **{word}** {row['b']} ({how}, A12 {row['effect_size']:.2f})"
        return f"it is not told apart from {row['b']} ({how}; seeds needed: {seeds_text(row)})"

    text = (
        f"The seed report's recommendation, Hyperband then Bayesian ({hybrid}), in test"
        f" accuracy over {n} seeds (Wilcoxon, Holm across these {len(rows)}): "
        + "; ".join(one(r) for r in rows)
        + "."
    )
    return {"tuner": hybrid, "parts": parts, "comparisons": rows, "text": text}


def _verdict(summary: dict[str, Any]) -> dict[str, Any]:
    """winner (or None), every significant pair, and the sentence that says so."""
    significant = []
    for p in summary["pairs"]:
        if p["significant"]:
            better, worse = _better_worse(p["a"], p["b"], p["mean_difference"], p["metric"])
            significant.append(_significantpair(p, better, worse))
    for b in (summary.get("references") or {}).values():
        for row in b["vs_tuners"].values():
            if row["significant"]:
                better, worse = _better_worse(
                    row["a"], row["b"], row["mean_difference"], "test_accuracy"
                )
                significant.append(_significantpair(row, better, worse))
    tuners = summary["tuners"]
    winner = None
    for t in tuners:
        beaten = {
            s["worse"] for s in significant if s["metric"] == "test_accuracy" and s["better"] == t
        }
        if len(tuners) > 1 and beaten >= set(tuners) - {t}:
            winner = t
    return {
        "winner": winner,
        "significant_pairs": significant,
        "text": _verdict_text(summary, winner, significant),
    }


def _significantpair(p: dict[str, Any], better: str, worse: str) -> dict[str, Any]:
    a12 = p["effect_size"] if better == p["a"] else 1 - p["effect_size"]
    if p["metric"] == "wall_time_s":  # lower is better: A12 of the better being larger is low
        a12 = 1 - a12
    return {
        "better": better,
        "worse": worse,
        "metric": p["metric"],
        "mean_difference": abs(p["mean_difference"]),
        "p_adjusted": p["p_adjusted"],
        "effect_size": a12,
    }


def _verdict_text(summary: dict[str, Any], winner: str | None, significant: list) -> str:
    n, alpha, n_test = summary["n_seeds"], summary["alpha"], summary["n_test"]
    method = f"paired Wilcoxon over {n} seeds, Holm-corrected, alpha {alpha}"
    accuracy = [s for s in significant if s["metric"] == "test_accuracy"]
    tuner_acc = [s for s in accuracy if s["worse"] in summary["tuners"]
                 and s["better"] in summary["tuners"]]  # fmt: skip
    refs = [s for s in accuracy if s not in tuner_acc]
    times = [s for s in significant if s["metric"] == "wall_time_s"]

    def rows(s: dict[str, Any]) -> str:
        return f"{s['mean_difference'] * n_test:.1f} rows of {n_test}"

    parts: list[str] = []
    if not significant:
        parts.append(
            f"**No significant difference at {n} seeds** ({method}): no tuner differs"
            " from another in test accuracy or search time, nor from the untuned references."
        )
    elif winner:
        parts.append(
            f"**{winner}** finds models with higher test accuracy than every other tuner"
            f" ({method})."
        )
    elif tuner_acc:
        named = "; ".join(
            f"**{s['better']}** beats {s['worse']} by {rows(s)} per seed on average"
            f" (p_adj {s['p_adjusted']:.3f}, A12 {s['effect_size']:.2f})"
            for s in tuner_acc
        )
        parts.append(f"Test accuracy ({method}): {named}. No tuner beats every other one.")
    else:
        parts.append(f"Test accuracy: no pair of tuners differs significantly at {n} seeds.")
    if significant and winner:
        others = [s for s in tuner_acc if s["better"] != winner]
        parts.extend(
            f"Also **{s['better']}** beats {s['worse']} by {rows(s)} (p_adj {s['p_adjusted']:.3f})."
            for s in others
        )
    for s in refs:
        label = REFERENCES.get(s["better"], s["better"])
        worse = REFERENCES.get(s["worse"], s["worse"])
        parts.append(
            f"**{label}** has higher test accuracy than {worse} by {rows(s)} per seed"
            f" (p_adj {s['p_adjusted']:.3f}, Holm across tuner-reference pairs)."
        )
    if times:
        parts.append(
            "Search time: "
            + "; ".join(
                f"**{s['better']}** is faster than {s['worse']} by {s['mean_difference']:.1f} s"
                f" (p_adj {s['p_adjusted']:.3f})"
                for s in times
            )
            + "."
        )
    if summary["min_p_adjusted"] >= alpha:
        parts.append(
            f"With {n} paired seeds the smallest Holm-adjusted p-value a pair of tuners can"
            f" reach is {summary['min_p_adjusted']:.3f}, so no pair could be called different"
            f" whatever the data; at least {summary['min_seeds_for_any_verdict']} seeds are"
            " needed for that."
        )
    open_pairs = [
        p for p in summary["pairs"]
        if p["metric"] == "test_accuracy" and not p["significant"]
    ]  # fmt: skip
    if open_pairs:
        parts.append(
            "Seeds needed to detect the observed test-accuracy differences with 80 % power,"
            " estimated (median, and 10–90 % range from a bootstrap of the effect): "
            + "; ".join(f"{p['a']} vs {p['b']}: {seeds_text(p)}" for p in open_pairs)
            + "."
        )
    return " ".join(parts)
