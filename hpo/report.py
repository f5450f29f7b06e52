"""From cell records to a verdict: summary.json, report.md and PNG figures."""

from __future__ import annotations

import itertools
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpo import stats
from hpo.errors import HpoError
from hpo.results import CellResult, Results, write_json, write_text

# (field, label, higher is better)
METRICS: list[tuple[str, str, bool]] = [
    ("best_val_accuracy", "best val acc (biased)", True),
    ("test_accuracy", "test acc", True),
    ("test_loss", "test loss", False),
    ("wall_time_s", "time (s)", False),
    ("epochs_trained", "epochs", False),
    ("trials_completed", "trials", False),
]
COMPARED = ["test_accuracy", "wall_time_s"]  # the paired tests' metrics
# What the seed report printed, from a run its own footnote calls simulated.
CLAIMED = {
    "hyperband": {"best_val_accuracy": 0.96, "wall_time_s": 15 * 60.0},
    "bayesian": {"best_val_accuracy": 0.97, "wall_time_s": 20 * 60.0},
}
ANYTIME_POINTS = 200


def _paired(cells: Sequence[CellResult]) -> tuple[list[str], list[int], dict]:
    """Tuners, the seeds all of them ran, and (tuner, seed) -> record."""
    profiles = sorted({c.profile for c in cells})
    if len(profiles) > 1:
        raise HpoError(f"results mix profiles {', '.join(profiles)}; report one at a time")
    tuners = list(dict.fromkeys(c.tuner for c in cells))
    by_key = {(c.tuner, c.seed): c for c in cells}
    seeds = sorted(set.intersection(*({c.seed for c in cells if c.tuner == t} for t in tuners)))
    if not seeds:
        raise HpoError("no seed was run by every tuner: nothing to pair")
    return tuners, seeds, by_key


def _anytime(cells: Sequence[CellResult], axis: str, horizon: float) -> dict[str, Any]:
    """Median and IQR of best-so-far val accuracy on an even grid up to `horizon`."""
    grid = np.linspace(0, horizon, ANYTIME_POINTS)
    curves = []
    for c in cells:
        if axis == "epochs":
            xs = np.cumsum([h["epochs"] for h in c.history])
        else:
            xs = [h["elapsed_s"] for h in c.history]
        curves.append(stats.best_so_far(xs, [h["val_accuracy"] for h in c.history], grid))
    matrix = np.array(curves)
    with warnings.catch_warnings():  # all-nan columns before any trial ends
        warnings.simplefilter("ignore", RuntimeWarning)
        q25, q50, q75 = np.nanpercentile(matrix, [25, 50, 75], axis=0)
    # Before half the seeds have a model, a median over the rest would flatter: leave it out.
    early = np.sum(~np.isnan(matrix), axis=0) < math.ceil(len(curves) / 2)
    q25[early] = q50[early] = q75[early] = np.nan
    areas = [stats.normalised_area(c) for c in curves]
    return {
        "grid": grid.tolist(),
        "median": q50.tolist(),
        "q25": q25.tolist(),
        "q75": q75.tolist(),
        "area": stats.describe(areas),
    }


def summarize(results: Results, alpha: float = stats.ALPHA) -> dict[str, Any]:
    """Everything the report says, as plain data (this is summary.json)."""
    tuners, seeds, by_key = _paired(results.cells)
    profile = results.cells[0].profile
    n_val = results.cells[0].n_val
    n_test = results.cells[0].n_test
    values = {
        m: {t: [float(getattr(by_key[t, s], m)) for s in seeds] for t in tuners}
        for m, _, _ in METRICS
    }
    per_tuner = {t: {m: stats.describe(values[m][t]) for m, _, _ in METRICS} for t in tuners}

    pairs: list[dict[str, Any]] = []
    for metric in COMPARED:
        rows = []
        for a, b in itertools.combinations(tuners, 2):
            diffs = np.subtract(values[metric][a], values[metric][b])
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "metric": metric,
                    "mean_difference": float(np.mean(diffs)),
                    "p_value": stats.wilcoxon_p(values[metric][a], values[metric][b]),
                    "effect_size": stats.a12(values[metric][a], values[metric][b]),
                    "seeds_needed": stats.seeds_needed(
                        diffs, n_comparisons=max(1, len(tuners) * (len(tuners) - 1) // 2)
                    ),
                }
            )
        for row, p_adj in zip(rows, stats.holm([r["p_value"] for r in rows]), strict=True):
            row["p_adjusted"] = p_adj
            row["significant"] = p_adj < alpha
        pairs.extend(rows)

    n_pairs = max(1, len(tuners) * (len(tuners) - 1) // 2)
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
    }
    if len(tuners) >= 3:
        summary["friedman"] = {
            "metric": "test_accuracy",
            "p_value": stats.friedman_p(values["test_accuracy"]),
            "average_ranks": stats.average_ranks(values["test_accuracy"]),
        }
    summary["winner"] = _winner(tuners, pairs)
    cells = [by_key[t, s] for t in tuners for s in seeds]
    epochs_horizon = min(sum(h["epochs"] for h in c.history) for c in cells)
    time_horizon = min(c.history[-1]["elapsed_s"] for c in cells if c.history)
    summary["anytime"] = {
        axis: {
            "horizon": horizon,
            "per_tuner": {
                t: _anytime([by_key[t, s] for s in seeds], axis, horizon) for t in tuners
            },
        }
        for axis, horizon in (("epochs", epochs_horizon), ("seconds", time_horizon))
    }
    summary["baselines"] = _baselines(results.baselines, seeds, values["test_accuracy"])
    if "random" in tuners:
        summary["normalised_score"] = stats.normalised_scores(
            values["test_accuracy"], reference="random"
        )
    return summary


def _winner(tuners: list[str], pairs: list[dict[str, Any]]) -> str | None:
    """The tuner significantly better on test accuracy than every other one, if any."""
    for t in tuners:
        beats = 0
        for p in pairs:
            if p["metric"] != "test_accuracy" or not p["significant"] or t not in (p["a"], p["b"]):
                continue
            better = p["mean_difference"] > 0 if p["a"] == t else p["mean_difference"] < 0
            beats += better
        if beats == len(tuners) - 1 and beats > 0:
            return t
    return None


def _baselines(
    baselines: list[dict[str, Any]], seeds: list[int], test_acc: dict[str, list[float]]
) -> dict[str, Any] | None:
    by_seed = {b["seed"]: b for b in baselines}
    if not all(s in by_seed for s in seeds):
        return None
    out: dict[str, Any] = {}
    for name in ("default_mlp", "logistic_regression"):
        ref = [float(by_seed[s][name]) for s in seeds]
        out[name] = {
            "test_accuracy": stats.describe(ref),
            "vs_tuners": {
                t: {
                    "mean_difference": float(np.mean(np.subtract(v, ref))),
                    "p_value": stats.wilcoxon_p(v, ref),
                }
                for t, v in test_acc.items()
            },
        }
    return out


# ---------------------------------------------------------------- text


def _fmt(metric: str, d: dict[str, float]) -> str:
    if metric.endswith("accuracy"):
        f = "{:.2%}"
    elif metric == "test_loss":
        f = "{:.3f}"
    else:
        f = "{:.0f}" if metric != "wall_time_s" else "{:.1f}"
    if math.isnan(d["ci_low"]):
        return f"{f.format(d['mean'])} (median {f.format(d['median'])})"
    return (
        f"{f.format(d['mean'])} [{f.format(d['ci_low'])}, {f.format(d['ci_high'])}]"
        f" (median {f.format(d['median'])})"
    )


def main_table(summary: dict[str, Any]) -> str:
    """The seed report's table, measured: mean [95 % CI] (median), and the claims beside it."""
    head = "| tuner | " + " | ".join(label for _, label, _ in METRICS) + " |"
    lines = [head, "|" + "---|" * (len(METRICS) + 1)]
    for t in summary["tuners"]:
        cells = [_fmt(m, summary["per_tuner"][t][m]) for m, _, _ in METRICS]
        lines.append(f"| {t} (measured, n={summary['n_seeds']}) | " + " | ".join(cells) + " |")
    for t, claim in summary["claimed"].items():
        cells = []
        for m, _, _ in METRICS:
            if m in claim:
                cells.append(
                    f"~{claim[m]:.0%}" if m.endswith("accuracy") else f"~{claim[m] / 60:.0f} min"
                )
            else:
                cells.append("—")
        lines.append(f"| {t} (claimed by the seed report, simulated) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(summary: dict[str, Any]) -> str:
    n = summary["n_seeds"]
    if summary["winner"]:
        return (
            f"**{summary['winner']}** finds models with higher test accuracy than every other"
            f" tuner (paired Wilcoxon, Holm-corrected, alpha {summary['alpha']}, {n} seeds)."
        )
    acc_pairs = [p for p in summary["pairs"] if p["metric"] == "test_accuracy"]
    needed = [p["seeds_needed"] for p in acc_pairs if p["seeds_needed"] is not None]
    text = f"**No significant difference in test accuracy at {n} seeds.**"
    if summary["min_p_adjusted"] >= summary["alpha"]:
        text += (
            f" With {n} paired seeds the smallest Holm-adjusted p-value any pair can reach is"
            f" {summary['min_p_adjusted']:.3f}, so no winner could be named whatever the data;"
            f" at least {summary['min_seeds_for_any_verdict']} seeds are needed for that."
        )
    if needed:
        span = f"{min(needed)}" if min(needed) == max(needed) else f"{min(needed)}–{max(needed)}"
        per_pair = ", ".join(
            f"{p['a']} vs {p['b']}: "
            + (str(p["seeds_needed"]) if p["seeds_needed"] else "no difference observed")
            for p in acc_pairs
        )
        text += (
            f" To detect the observed differences with 80 % power would take about {span}"
            f" seeds (per pair: {per_pair})."
        )
    return text


def _pairs_table(summary: dict[str, Any]) -> str:
    lines = [
        "| pair | metric | mean difference (a − b) | p | p (Holm) | A12 | significant |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in summary["pairs"]:
        diff = (
            f"{p['mean_difference']:+.2%}"
            if p["metric"].endswith("accuracy")
            else f"{p['mean_difference']:+.1f} s"
        )
        lines.append(
            f"| {p['a']} vs {p['b']} | {p['metric']} | {diff} | {p['p_value']:.3f} |"
            f" {p['p_adjusted']:.3f} | {p['effect_size']:.2f} |"
            f" {'yes' if p['significant'] else 'no'} |"
        )
    return "\n".join(lines)


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
        "Mean [95 % bootstrap CI of the mean] (median), over seeds.",
        "",
        main_table(summary),
        "",
        f"*Best val acc* is the best trial's score on {n_val} validation rows (one row ="
        f" {1 / n_val:.1%}): it is selected as a maximum over many trials, so it is"
        f" **optimistically biased**. *Test acc* is that trial's model on {n_test} rows the"
        f" tuner never saw (one row = {1 / n_test:.2%}): the generalization estimate.",
        "",
        "## Paired comparisons",
        "",
        "Wilcoxon signed-rank, paired by seed (exact where ties allow), Holm-corrected"
        " across pairs within each metric; A12 is the Vargha–Delaney effect size"
        " (0.5 = no effect, > 0.5 = a tends to be larger).",
        f" With {n} seeds the smallest two-sided p-value is {summary['min_p_value']:.4f},"
        f" {summary['min_p_adjusted']:.4f} after Holm across the pairs.",
        "",
        _pairs_table(summary),
        "",
    ]
    if "friedman" in summary:
        f = summary["friedman"]
        ranks = ", ".join(f"{t} {r:.2f}" for t, r in f["average_ranks"].items())
        out += [
            f"Friedman test on test accuracy: p = {f['p_value']:.3f}. Average ranks"
            f" (1 = best): {ranks}.",
            "",
        ]
    out += ["## Anytime performance", ""]
    for axis, data in summary["anytime"].items():
        areas = ", ".join(f"{t} {d['area']['mean']:.3f}" for t, d in data["per_tuner"].items())
        out.append(
            f"- Area under best-so-far val accuracy vs {axis}, up to {data['horizon']:.0f}"
            f" {axis} (the smallest total of any run; 0 before a tuner's first trial ends):"
            f" {areas}."
        )
    out.append("")
    b = summary.get("baselines")
    out += ["## Baselines on the same splits", ""]
    if b:
        for name, label in (
            ("default_mlp", "Untuned MLP (1 × 64 relu, lr 0.001, 50 epochs)"),
            ("logistic_regression", "LogisticRegression"),
        ):
            vs = "; ".join(
                f"{t} {d['mean_difference']:+.2%} (p {d['p_value']:.3f})"
                for t, d in b[name]["vs_tuners"].items()
            )
            out.append(
                f"- {label}: test acc {_fmt('test_accuracy', b[name]['test_accuracy'])}."
                f" Tuners minus it: {vs}."
            )
    else:
        out.append("- Not in these results (run `pytest benchmarks`, which records them).")
    if summary.get("normalised_score"):
        scores = ", ".join(
            f"{t} {'n/a' if s is None else f'{s:.2f}'}"
            for t, s in summary["normalised_score"].items()
        )
        out.append(
            f"- Normalised score on test accuracy (bayesmark-style: 0 = best seen on each seed,"
            f" 1 = random search): {scores}."
        )
    out += ["", "## Figures", ""]
    out += [f"![{name}]({path})" for name, path in figures.items()]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- figures


def plot_figures(summary: dict[str, Any], results: Results, out: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tuners, seeds = summary["tuners"], summary["seeds"]
    by_key = {(c.tuner, c.seed): c for c in results.cells}
    figures = {}
    for metric, label, filename in (
        ("test_accuracy", "test accuracy (held-out rows)", "test_accuracy.png"),
        ("wall_time_s", "search wall time (s)", "wall_time.png"),
    ):
        fig, ax = plt.subplots(figsize=(6, 4))
        data = [[getattr(by_key[t, s], metric) for s in seeds] for t in tuners]
        ax.boxplot(data, widths=0.5, showmeans=True)
        ax.set_xticks(range(1, len(tuners) + 1), tuners)
        rng = np.random.default_rng(0)
        for i, ys in enumerate(data, start=1):
            ax.scatter(i + rng.uniform(-0.12, 0.12, len(ys)), ys, s=14, alpha=0.7, zorder=3)
        b = summary.get("baselines")
        if metric == "test_accuracy" and b:
            for name, style in (("default_mlp", "--"), ("logistic_regression", ":")):
                ax.axhline(
                    b[name]["test_accuracy"]["mean"], ls=style, c="grey", label=f"{name} (mean)"
                )
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
            ax.plot(d["grid"], d["median"], label=t)
            ax.fill_between(d["grid"], d["q25"], d["q75"], alpha=0.2)
        ax.set_xlabel(f"cumulative {axis}")
        ax.set_ylabel("best-so-far val accuracy (median, IQR)")
        ax.legend()
    fig.suptitle(f"Anytime performance ({summary['profile']}, {len(seeds)} seeds)")
    fig.tight_layout()
    fig.savefig(out / "anytime.png", dpi=110)
    plt.close(fig)
    figures["anytime performance"] = "anytime.png"
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
    """Write report.md, summary.json and the PNG figures into `out`; return the summary."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HpoError(f"cannot create {out}: {e.strerror or e}") from None
    if not os.access(out, os.W_OK):
        raise HpoError(f"cannot write to {out}: permission denied")
    summary = summarize(results)
    figures = plot_figures(summary, results, out)
    write_json(out / "summary.json", _nan_to_none(summary))
    text = render_markdown(summary, figures)
    write_text(out / "report.md", text)
    return summary
