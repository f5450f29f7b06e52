"""From cell records to a verdict: summary.json, report.md, CSV files and PNG figures.

Every accuracy enters a test as a count of correct rows (`stats.correct_rows`),
so equal accuracies from Keras (float32) and scikit-learn (float64) are ties.
Comparisons use only the seeds every tuner completed; the report says which
seeds were dropped and why.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from hpo import stats
from hpo.errors import HpoError
from hpo.profiles import PROFILES
from hpo.results import CellResult, Results, write_json, write_text

# (field, label, higher is better, kind); kind "fixed" is set by the budget: no interval.
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
REFERENCES = {  # untuned models on the same splits (hpo.baselines)
    "default_mlp": "untuned MLP (1 × 64 relu, lr 0.001, 50 epochs)",
    "logistic_regression": "LogisticRegression",
}
# What the seed report printed, from a run its own footnote calls simulated.
CLAIMED = {
    "hyperband": {"best_val_accuracy": 0.96, "wall_time_s": 15 * 60.0},
    "bayesian": {"best_val_accuracy": 0.97, "wall_time_s": 20 * 60.0},
}
ANYTIME_POINTS = 200
MIN_SEEDS_FOR_CD = 5  # fewer blocks than this make the Nemenyi test's normal approximation poor


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
        return _counts(metric, values, n_test)
    if metric == "best_val_accuracy":
        return _counts(metric, values, n_val)
    return np.asarray(values, dtype=float)


def _counts(what: str, values: Sequence[float], n: int) -> np.ndarray:
    try:
        return stats.correct_rows(values, n)
    except ValueError:
        raise HpoError(
            f"{what}: {_short_list(values)} are not counts of correct rows out of {n}"
        ) from None


def _short_list(values: Sequence[float]) -> str:
    text = ", ".join(f"{v:.6g}" for v in list(values)[:4])
    return f"[{text}{', ...' if len(values) > 4 else ''}]"


def _better_worse(a: str, b: str, mean_difference: float, metric: str) -> tuple[str, str]:
    a_better = (mean_difference > 0) == HIGHER_IS_BETTER.get(metric, True)
    return (a, b) if a_better else (b, a)


def _pair(a: str, b: str, metric: str, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """One paired comparison by seed (x, y: one value per seed, counts for accuracies)."""
    diffs = x - y
    return {
        "a": a,
        "b": b,
        "metric": metric,
        "mean_difference": float(np.mean(diffs)),
        "p_value": stats.wilcoxon_p(x, y),
        "effect_size": stats.a12(x, y),
    }


def _holm_in_place(rows: list[dict[str, Any]], alpha: float) -> None:
    for row, p_adj in zip(rows, stats.holm([r["p_value"] for r in rows]), strict=True):
        row["p_adjusted"] = p_adj
        row["significant"] = bool(p_adj < alpha)


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
        grid = np.linspace(0, horizon, ANYTIME_POINTS)
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


def _critical_difference(table: dict[str, np.ndarray], alpha: float) -> dict[str, Any] | None:
    """Nemenyi critical difference of average ranks and the pairwise Nemenyi p-values.

    CD = q_alpha * sqrt(k (k + 1) / (6 N)) (Demšar 2006), with q_alpha the
    studentized range quantile / sqrt(2) (scipy); the p-values come from
    scikit-posthocs. None with fewer than 3 tuners or MIN_SEEDS_FOR_CD seeds.
    """
    import pandas as pd
    import scikit_posthocs as sp
    from scipy.stats import studentized_range

    k, n = len(table), len(next(iter(table.values())))
    if k < 3 or n < MIN_SEEDS_FOR_CD:
        return None
    q_alpha = studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    blocks = pd.DataFrame({t: np.asarray(v, dtype=float) for t, v in table.items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-tied blocks: scipy warns, p-values stay 1
        nemenyi = sp.posthoc_nemenyi_friedman(blocks)
    return {
        "critical_difference": float(q_alpha * math.sqrt(k * (k + 1) / (6 * n))),
        "nemenyi_p": {a: {b: float(nemenyi.loc[a, b]) for b in table} for a in table},
    }


def _provenance(results: Results, cells: Sequence[CellResult], profile: str) -> dict[str, Any]:
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
        "budgets": (
            {
                "hyperband": f"max_epochs {prof.hyperband_max_epochs}, factor"
                f" {prof.hyperband_factor}",
                "bayesian": f"{prof.max_trials} trials × {prof.epochs} epochs,"
                f" {prof.num_initial_points} initial points",
                "random": f"{prof.max_trials} trials × {prof.epochs} epochs",
            }
            if prof
            else None
        ),
    }


def summarize(results: Results, alpha: float = stats.ALPHA) -> dict[str, Any]:
    """Everything the report says, as plain data (this is summary.json)."""
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
            _pair(a, b, metric, tables[metric][a], tables[metric][b])
            for a, b in itertools.combinations(tuners, 2)
        ]
        _holm_in_place(rows, alpha)
        pairs.extend(rows)
    for p in pairs:
        if p["metric"] == "test_accuracy":
            p["mean_difference_rows"] = p["mean_difference"]
            p["mean_difference"] = p["mean_difference"] / n_test
    _seed_estimates(pairs, tables, n_pairs)

    summary: dict[str, Any] = {
        "profile": profile,
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
        "claimed": {t: c for t, c in CLAIMED.items() if t in tuners},
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
        cd = _critical_difference(tables["test_accuracy"], alpha)
        if cd is not None:
            summary["friedman"].update(cd)
    summary["anytime"] = {
        axis: _anytime({t: [by_key[t, s] for s in seeds] for t in tuners}, axis)
        for axis in ("epochs", "seconds")
    }
    summary["baselines"] = _baselines(results.baselines, seeds, tables["test_accuracy"], n_test)
    if summary["baselines"] is not None:
        by_seed = {b["seed"]: b for b in results.baselines}
        summary["per_seed_references"] = {
            str(s): {name: int(_counts(name, [by_seed[s][name]], n_test)[0]) for name in REFERENCES}
            for s in seeds
        }
    if "random" in tuners:
        scores = stats.normalised_scores(tables["test_accuracy"], reference="random")
        summary["normalised_score"] = scores
        if all(v is None for v in scores.values()):
            summary["normalised_score_note"] = (
                "random search found the best test accuracy of all tuners on every seed,"
                " so there is no gap to normalise by"
            )
    summary["provenance"] = _provenance(results, results.cells, profile)
    summary["verdict"] = _verdict(summary)
    summary["winner"] = summary["verdict"]["winner"]
    return summary


def _baselines(
    baselines: list[dict[str, Any]],
    seeds: list[int],
    test_rows: dict[str, np.ndarray],
    n_test: int,
) -> dict[str, Any] | None:
    """The untuned references against every tuner, Holm-corrected as one family."""
    by_seed = {b["seed"]: b for b in baselines}
    if not seeds or not all(s in by_seed for s in seeds):
        return None
    out: dict[str, Any] = {}
    family: list[dict[str, Any]] = []
    for name in REFERENCES:
        acc = [float(by_seed[s][name]) for s in seeds]
        ref = _counts(name, acc, n_test)
        out[name] = {
            "label": REFERENCES[name],
            "test_accuracy": stats.describe(acc, BOUNDS["accuracy"]),
            "vs_tuners": {},
        }
        for t, rows in test_rows.items():
            row = _pair(t, name, "test_accuracy", rows, ref)
            row["mean_difference_rows"] = row["mean_difference"]
            row["mean_difference"] = row["mean_difference"] / n_test
            out[name]["vs_tuners"][t] = row
            family.append(row)
    _holm_in_place(family, stats.ALPHA)
    return out


# ---------------------------------------------------------------- verdict


def _verdict(summary: dict[str, Any]) -> dict[str, Any]:
    """winner (or None), every significant pair, and the sentence that says so."""
    significant = []
    for p in summary["pairs"]:
        if p["significant"]:
            better, worse = _better_worse(p["a"], p["b"], p["mean_difference"], p["metric"])
            significant.append(_significant_pair(p, better, worse))
    for b in (summary.get("baselines") or {}).values():
        for row in b["vs_tuners"].values():
            if row["significant"]:
                better, worse = _better_worse(
                    row["a"], row["b"], row["mean_difference"], "test_accuracy"
                )
                significant.append(_significant_pair(row, better, worse))
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


def _significant_pair(p: dict[str, Any], better: str, worse: str) -> dict[str, Any]:
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
            + "; ".join(f"{p['a']} vs {p['b']}: {_seeds_text(p)}" for p in open_pairs)
            + "."
        )
    return " ".join(parts)


def _seeds_text(p: dict[str, Any]) -> str:
    est = p.get("seeds_needed")
    if est is None:
        return "no difference observed"

    def one(v: int | None) -> str:
        return f"> {stats.MAX_SEEDS_ESTIMATE:,}" if v is None else f"{v:,}"

    low, mid, high = est
    return f"about {one(mid)} ({one(low)}–{one(high)})"


# ---------------------------------------------------------------- text


def _fmt(metric: str, d: dict[str, float]) -> str:
    if metric.endswith("accuracy"):
        f = "{:.2%}"
    elif metric == "test_loss":
        f = "{:.3f}"
    else:
        f = "{:.0f}" if metric != "wall_time_s" else "{:.1f}"
    if "min" in d:  # fixed by the budget
        if d["min"] == d["max"]:
            return f.format(d["mean"])
        return f"{f.format(d['mean'])} (min {f.format(d['min'])}, max {f.format(d['max'])})"
    if d["ci_low"] is None or math.isnan(d["ci_low"]):
        return f"{f.format(d['mean'])} (median {f.format(d['median'])})"
    return (
        f"{f.format(d['mean'])} [{f.format(d['ci_low'])}, {f.format(d['ci_high'])}]"
        f" (median {f.format(d['median'])})"
    )


def main_table(summary: dict[str, Any]) -> str:
    """The seed report's table, measured: mean [95 % CI] (median), and the claims beside it."""
    head = "| tuner | " + " | ".join(label for _, label, _, _ in METRICS) + " |"
    lines = [head, "|" + "---|" * (len(METRICS) + 1)]
    for t in summary["tuners"]:
        cells = [_fmt(m, summary["per_tuner"][t][m]) for m, _, _, _ in METRICS]
        lines.append(f"| {t} (measured, n={summary['n_seeds']}) | " + " | ".join(cells) + " |")
    for t, claim in summary["claimed"].items():
        cells = []
        for m, _, _, _ in METRICS:
            if m in claim:
                cells.append(
                    f"~{claim[m]:.0%}" if m.endswith("accuracy") else f"~{claim[m] / 60:.0f} min"
                )
            else:
                cells.append("—")
        lines.append(f"| {t} (claimed by the seed report, simulated) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(summary: dict[str, Any]) -> str:
    """The verdict's sentence (markdown)."""
    return str(summary["verdict"]["text"])


def _pairs_table(pairs: list[dict[str, Any]], n_test: int) -> str:
    lines = [
        "| pair | metric | mean difference (a − b) | p | p (Holm) | A12 | significant |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in pairs:
        diff = (
            f"{p['mean_difference']:+.2%} ({p['mean_difference'] * n_test:+.1f} rows)"
            if p["metric"].endswith("accuracy")
            else f"{p['mean_difference']:+.1f} s"
        )
        lines.append(
            f"| {p['a']} vs {p['b']} | {p['metric']} | {diff} | {p['p_value']:.4f} |"
            f" {p['p_adjusted']:.4f} | {p['effect_size']:.2f} |"
            f" {'yes' if p['significant'] else 'no'} |"
        )
    return "\n".join(lines)


def _per_seed_table(summary: dict[str, Any]) -> str:
    tuners, n_test = summary["tuners"], summary["n_test"]
    refs = list((summary.get("baselines") or {}).keys())
    head = "| seed | " + " | ".join(tuners + refs) + " |"
    lines = [head, "|" + "---|" * (1 + len(tuners) + len(refs))]
    per_ref = summary.get("per_seed_references") or {}
    for s, row in summary["per_seed"].items():
        cells = [str(row[t]) for t in tuners] + [str(per_ref.get(s, {}).get(r, "—")) for r in refs]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    lines.append(f"\nCorrect test rows of {n_test}, per seed (the values every test above uses).")
    return "\n".join(lines)


def _failures_text(summary: dict[str, Any]) -> list[str]:
    out = []
    for t in summary["tuners"]:
        failed = summary["failures"].get(t, [])
        if not failed:
            out.append(f"- {t}: no failed trials.")
            continue
        reasons: dict[str, list[str]] = {}
        for f in failed:
            reasons.setdefault(f["error"] or "no reason recorded", []).append(
                f"seed {f['seed']} trial {f['trial_id']}"
            )
        detail = "; ".join(f"{why} ({', '.join(where)})" for why, where in reasons.items())
        out.append(f"- {t}: {len(failed)} failed trial(s): {detail}.")
    for d in summary["dropped_seeds"]:
        why = "; ".join(f"{x['tuner']} stopped: {x['reason']}" for x in d["stopped"])
        out.append(
            f"- Seed {d['seed']} is left out of every comparison: no record of"
            f" {', '.join(d['missing'])}" + (f" ({why})." if why else " (stopped or not run).")
        )
    if summary["dropped_seeds"]:
        out.append(
            f"- Comparisons use only the {summary['n_seeds']} seed(s) every tuner completed."
        )
    return out


def _provenance_text(p: dict[str, Any]) -> list[str]:
    out = [f"- report written {p['report_written']}"]
    for run in p["runs"]:
        when = run.get("datetime", "date not recorded")
        extra = f", {run['xdist_workers']} parallel worker(s)" if run.get("xdist_workers") else ""
        commit = f", commit {run['commit'][:12]}" if run.get("commit") else ""
        out.append(f"- input {run['source']}: run {when}{extra}{commit}")
    out.append(f"- hpo source hash: {', '.join(p['hpo_source']) or 'not recorded'}")
    if p["versions"]:
        out.append(
            "- versions: "
            + ", ".join(f"{k} {'/'.join(map(str, v))}" for k, v in p["versions"].items())
        )
    c = p["calibration_s"]
    if c:
        span = f"{c['min']:.3f} s" if c["min"] == c["max"] else f"{c['min']:.3f}–{c['max']:.3f} s"
        out.append(f"- calibration (hpo.calibration, per session): {span}")
    out.append(
        f"- Keras Tuner workers per cell: {', '.join(map(str, p['workers_per_cell']))};"
        f" cells resumed after an interruption: {p['resumed_cells']}"
    )
    if p["budgets"]:
        out.append("- budgets: " + "; ".join(f"{k}: {v}" for k, v in p["budgets"].items()))
    return out


def render_markdown(summary: dict[str, Any], figures: dict[str, str]) -> str:
    n, n_val, n_test = summary["n_seeds"], summary["n_val"], summary["n_test"]
    out = [
        f"# Tuner comparison: profile `{summary['profile']}`, {n} seeds",
        "",
        f"Seeds: {', '.join(map(str, summary['seeds']))}. Every figure below comes from"
        " these runs; the seed report's claims are shown beside them, marked as claimed.",
        "",
        "## Verdict",
        "",
        verdict(summary),
        "",
        "## The seed report's table, measured",
        "",
        "Mean [95 % t-interval of the mean] (median), over seeds. Epochs and trials are"
        " fixed by the budget: shown without an interval (min and max if a failed trial"
        " changed them).",
        "",
        main_table(summary),
        "",
        f"*Best val acc* is the best trial's score on {n_val} validation rows (one row ="
        f" {1 / n_val:.1%}): it is selected as a maximum over many trials, so it is"
        f" **optimistically biased**. *Test acc* is that trial's model on {n_test} rows the"
        f" tuner never saw (one row = {1 / n_test:.2%}): the generalization estimate.",
        "",
        "## Per seed",
        "",
        _per_seed_table(summary),
        "",
        "## Paired comparisons",
        "",
        "Wilcoxon signed-rank on correct test rows (ties are ties), paired by seed, exact"
        " where ties allow, Holm-corrected across pairs within each metric; A12 is the"
        " Vargha–Delaney effect size (0.5 = no effect, > 0.5 = a tends to be larger).",
        f" With {n} seeds the smallest two-sided p-value is {summary['min_p_value']:.4f},"
        f" {summary['min_p_adjusted']:.4f} after Holm across the pairs.",
        "",
        _pairs_table(summary["pairs"], n_test),
        "",
    ]
    if "friedman" in summary:
        f = summary["friedman"]
        ranks = ", ".join(f"{t} {r:.2f}" for t, r in f["average_ranks"].items())
        cd = (
            f" Nemenyi critical difference {f['critical_difference']:.2f}:"
            " tuners whose average ranks differ by less are not told apart."
            if f["critical_difference"] is not None
            else f" (No critical-difference diagram: it needs at least {MIN_SEEDS_FOR_CD} seeds.)"
        )
        out += [
            f"Friedman test on correct test rows: p = {f['p_value']:.3f}. Average ranks"
            f" (1 = best): {ranks}.{cd}",
            "",
        ]
    out += ["## Failures and dropped seeds", "", *_failures_text(summary), ""]
    out += ["## Anytime performance", ""]
    for axis, data in summary["anytime"].items():
        areas = ", ".join(
            f"{t} {d['area']['mean']:.3f} (to {d['horizon']:.0f})"
            for t, d in data["per_tuner"].items()
        )
        out.append(
            f"- Mean best-so-far val accuracy vs {axis}, from {data['start']:.1f} {axis} (the"
            f" first point at which every tuner on every seed has a model) to each tuner's own"
            f" end: {areas}."
        )
    out.append(
        "- Curves are steps, each to its tuner's full budget; a median is drawn from the"
        " first point at which every seed of that tuner has a model."
    )
    out.append("")
    b = summary.get("baselines")
    out += ["## Untuned references on the same splits", ""]
    if b:
        for ref in b.values():
            vs = "; ".join(
                f"{t} {d['mean_difference']:+.2%} (p_adj {d['p_adjusted']:.3f})"
                for t, d in ref["vs_tuners"].items()
            )
            out.append(
                f"- {ref['label']}: test acc {_fmt('test_accuracy', ref['test_accuracy'])}."
                f" Tuners minus it: {vs}."
            )
        out.append(
            "- Paired Wilcoxon on correct rows, Holm-corrected across all tuner-reference pairs."
        )
    else:
        out.append("- Not in these results (`pytest benchmarks` records them).")
    if summary.get("normalised_score"):
        if "normalised_score_note" in summary:
            scores = f"not defined: {summary['normalised_score_note']}"
        else:
            scores = ", ".join(f"{t} {s:.2f}" for t, s in summary["normalised_score"].items())
        out.append(
            f"- Normalised score on test accuracy (bayesmark-style: 0 = best seen on each seed,"
            f" 1 = random search): {scores}."
        )
    out += ["", "## Provenance", "", *_provenance_text(summary["provenance"])]
    out += [
        "",
        "## Figures and files",
        "",
        "`cells.csv` (one row per cell) and `trials.csv` (one row per trial) hold the"
        " evidence behind every number here; `summary.json` holds the numbers.",
        "",
    ]
    out += [f"![{name}]({path})" for name, path in figures.items()]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- evidence


CELL_COLUMNS = [
    "tuner", "seed", "profile", "test_accuracy", "test_correct", "n_test", "test_loss",
    "best_val_accuracy", "best_val_loss", "wall_time_s", "calibration_s", "calibrated_time",
    "epochs_trained", "trials_completed", "trials_failed", "peak_rss_mb", "workers", "resumes",
]  # fmt: skip


def cell_rows(cells: Sequence[CellResult]) -> list[dict[str, Any]]:
    """One row per cell for cells.csv."""
    return [
        {
            **{k: getattr(c, k) for k in CELL_COLUMNS if hasattr(c, k)},
            "test_correct": int(_counts("test_accuracy", [c.test_accuracy], c.n_test)[0]),
            "calibrated_time": c.wall_time_s / c.calibration_s if c.calibration_s else None,
        }
        for c in cells
    ]


def trial_rows(cells: Sequence[CellResult]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and one row per trial for trials.csv (hyperparameters as columns)."""
    names = sorted({k for c in cells for h in c.history for k in h.get("hyperparameters", {})})
    rows = []
    for c in cells:
        for h in c.history:
            rows.append(
                {
                    "tuner": c.tuner,
                    "seed": c.seed,
                    "trial_id": h.get("trial_id"),
                    "status": h.get("status"),
                    **{n: h.get("hyperparameters", {}).get(n) for n in names},
                    "val_accuracy": h["val_accuracy"],
                    "epochs": h["epochs"],
                    "elapsed_s": h["elapsed_s"],
                    "error": h.get("error"),
                }
            )
    base = ["tuner", "seed", "trial_id", "status"]
    return [*base, *names, "val_accuracy", "epochs", "elapsed_s", "error"], rows


def _csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


# ---------------------------------------------------------------- figures


def plot_figures(summary: dict[str, Any], results: Results, out: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tuners, seeds = summary["tuners"], summary["seeds"]
    by_key = {(c.tuner, c.seed): c for c in results.cells}
    colours = {t: f"C{i}" for i, t in enumerate(tuners)}
    figures = {}
    for metric, label, filename in (
        ("test_accuracy", "test accuracy (held-out rows)", "test_accuracy.png"),
        ("wall_time_s", "search wall time (s)", "wall_time.png"),
    ):
        fig, ax = plt.subplots(figsize=(6, 4))
        data = [[getattr(by_key[t, s], metric) for s in seeds] for t in tuners]
        ax.boxplot(
            data,
            widths=0.5,
            showmeans=True,
            showfliers=False,  # every point is drawn below
            medianprops={"color": "black"},
            meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black"},
        )
        ax.set_xticks(range(1, len(tuners) + 1), tuners)
        rng = np.random.default_rng(0)
        for i, (t, ys) in enumerate(zip(tuners, data, strict=True), start=1):
            ax.scatter(
                i + rng.uniform(-0.12, 0.12, len(ys)), ys, s=14, alpha=0.7, zorder=3, c=colours[t]
            )
        b = summary.get("baselines")
        if metric == "test_accuracy" and b:
            for name, style in (("default_mlp", "--"), ("logistic_regression", ":")):
                ax.axhline(
                    b[name]["test_accuracy"]["mean"], ls=style, c="grey", label=f"{name} (mean)"
                )
        ax.plot([], [], "k-", label="median")
        ax.plot([], [], "D", mfc="white", mec="black", ls="", label="mean")
        ax.legend(fontsize=8)
        ax.set_ylabel(label)
        ax.set_title(f"{label}, {len(seeds)} seeds ({summary['profile']})")
        fig.tight_layout()
        fig.savefig(out / filename, dpi=110)
        plt.close(fig)
        figures[label] = filename

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, (axis, data) in zip(axes, summary["anytime"].items(), strict=True):
        for t, d in data["per_tuner"].items():
            grid, q25, q75 = (np.asarray(d[k], dtype=float) for k in ("grid", "q25", "q75"))
            ax.step(grid, np.asarray(d["median"], dtype=float), where="post", label=t,
                    c=colours[t])  # fmt: skip
            ax.fill_between(grid, q25, q75, step="post", alpha=0.2, color=colours[t])
        ax.axvline(data["start"], ls=":", c="grey", lw=1)
        ax.set_xlabel(f"cumulative {axis}")
        ax.set_ylabel("best-so-far val accuracy (median, IQR)")
        ax.legend()
    fig.suptitle(f"Anytime performance ({summary['profile']}, {len(seeds)} seeds)")
    fig.tight_layout()
    fig.savefig(out / "anytime.png", dpi=110)
    plt.close(fig)
    figures["anytime performance"] = "anytime.png"

    n_test = summary["n_test"]
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(len(tuners))
    rng = np.random.default_rng(1)
    for s in seeds:
        ys = [summary["per_seed"][str(s)][t] for t in tuners]
        ax.plot(x, np.add(ys, rng.uniform(-0.12, 0.12)), "o-", c="grey", alpha=0.5, ms=3)
    ax.set_xticks(x, tuners)
    ax.set_ylabel(f"correct test rows of {n_test} (jittered ±0.12 per seed)")
    ax.set_title(f"Test accuracy per seed, one line per seed ({len(seeds)} seeds)")
    fig.tight_layout()
    fig.savefig(out / "paired.png", dpi=110)
    plt.close(fig)
    figures["test accuracy per seed"] = "paired.png"

    fig, ax = plt.subplots(figsize=(6, 4))
    calibrated = all(by_key[t, s].calibration_s for t in tuners for s in seeds)
    for t in tuners:
        cells = [by_key[t, s] for s in seeds]
        xs = [c.wall_time_s / c.calibration_s if calibrated else c.wall_time_s for c in cells]
        ax.scatter(xs, [c.test_accuracy for c in cells], label=t, c=colours[t], s=18)
    ax.set_xlabel(
        "search time / calibration fit" if calibrated else "search time (s; no calibration)"
    )
    ax.set_ylabel("test accuracy")
    ax.set_title("Accuracy against cost, one marker per cell")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "cost_accuracy.png", dpi=110)
    plt.close(fig)
    figures["accuracy against cost"] = "cost_accuracy.png"

    friedman = summary.get("friedman")
    if friedman and friedman["critical_difference"] is not None:
        import pandas as pd
        import scikit_posthocs as sp

        fig, ax = plt.subplots(figsize=(7, 2.2))
        sp.critical_difference_diagram(
            friedman["average_ranks"],
            pd.DataFrame(friedman["nemenyi_p"]),
            cd=friedman["critical_difference"],
            alpha=summary["alpha"],
            ax=ax,
            color_palette=colours,
        )
        ax.set_title(
            f"Average ranks on test accuracy (1 = best), {len(seeds)} seeds; bars join tuners"
            f" Nemenyi cannot tell apart; CD {friedman['critical_difference']:.2f}",
            fontsize=8,
            pad=24,
        )
        fig.savefig(out / "critical_difference.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        figures["critical difference"] = "critical_difference.png"
    return figures


def _nan_to_none(obj: Any) -> Any:
    """JSON has no NaN: an undefined number (CI of one value, curve before a trial) is null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_to_none(v) for v in obj]
    return obj


def write_report(results: Results, out: str | os.PathLike[str]) -> dict[str, Any]:
    """Write report.md, summary.json, cells.csv, trials.csv and PNG figures into `out`."""
    out = Path(out)
    summary = summarize(results)  # bad input fails here, before anything is written
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HpoError(f"cannot create {out}: {e.strerror or e}") from None
    if not os.access(out, os.W_OK):
        raise HpoError(f"cannot write to {out}: permission denied")
    figures = plot_figures(summary, results, out)
    write_text(out / "cells.csv", _csv_text(CELL_COLUMNS, cell_rows(results.cells)))
    write_text(out / "trials.csv", _csv_text(*trial_rows(results.cells)))
    write_json(out / "summary.json", _nan_to_none(summary))
    write_text(out / "report.md", render_markdown(summary, figures))
    return summary
