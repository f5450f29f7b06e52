"""The report: report.md, CSV files and PNG figures, from `hpo.analysis.summary`'s numbers."""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpo.analysis import stats
from hpo.analysis.paired import MIN_SEEDS_FOR_CD, counts
from hpo.analysis.summary import METRICS, summarize
from hpo.errors import HpoError
from hpo.experiment.results import CellResult, Results, trial_score, write_json, write_text

# ---------------------------------------------------------------- text


def tuner_table(records: Sequence[CellResult]) -> str:
    """One row per task and tuner: seeds, mean test score (accuracy, or R² for regression),
    mean hypervolume, mean time, mean epochs and trials."""
    from hpo.analysis.suite import cell_hypervolume

    w = max([10, *(len(r.tuner) for r in records)])  # MODULE:ATTR names are long
    tw = max(len(r.task) for r in records)
    header = (
        f"{'task':<{tw}} {'tuner':<{w}} {'profile':<7} {'seeds':>5} {'test score':>10}"
        f" {'hypervol':>8} {'time s':>8} {'epochs':>7} {'trials':>7}"
    )
    lines = [header, "-" * len(header)]
    for task, tuner in dict.fromkeys((r.task, r.tuner) for r in records):
        rows = [r for r in records if r.tuner == tuner and r.task == task]
        profiles = ",".join(sorted({r.profile for r in rows}))

        def mean(attr: str, rows: Sequence[CellResult] = rows) -> float:
            return float(np.mean([getattr(r, attr) for r in rows]))

        volumes = [cell_hypervolume(r) for r in rows]
        hv = "—" if None in volumes else f"{np.mean(volumes):.4f}"  # type: ignore[arg-type]
        kind = "R²" if rows[0].test_accuracy is None else "acc"
        lines.append(
            f"{task:<{tw}} {tuner:<{w}} {profiles:<7} {len(rows):>5}"
            f" {kind:>3} {mean('test_score'):>6.4f} {hv:>8} {mean('wall_time_s'):>8.1f}"
            f" {mean('epochs_trained'):>7.1f} {mean('trials_completed'):>7.1f}"
        )
    return "\n".join(lines)


def _fmt(metric: str, d: dict[str, float]) -> str:
    if metric.endswith("accuracy"):
        f = "{:.2%}"
    elif metric in ("test_loss", "test_r2", "hypervolume"):
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
    """The seed report's table, measured: mean [95 % CI] (median), and the claims beside it
    (for a suite of tasks: each task's test score and hypervolume per tuner)."""
    if summary.get("kind") == "suite":
        return "\n\n".join(_task_table(s) for s in summary["per_task"].values())
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


def conclusions(summary: dict[str, Any]) -> list[str]:
    """What a terminal prints at the end: the verdict, and the recommendation's if tested."""
    lines = [verdict(summary)]
    if summary.get("recommendation"):
        lines.append(summary["recommendation"]["text"])
    if summary.get("kind") != "suite" and summary.get("hypervolume"):
        lines.append(summary["hypervolume"]["text"])
    return [line.replace("**", "") for line in lines]


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
    refs = list((summary.get("references") or {}).keys())
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
        if run.get("cluster"):
            c = run["cluster"]
            extra = (
                f", on a {c['engine'].title()} cluster ({c['address']}) of {c['workers']} workers"
            )
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
        out.append(f"- calibration (hpo.run.calibration, per session): {span}")
    out.append(
        f"- Keras Tuner workers per cell: {', '.join(map(str, p['workers_per_cell']))};"
        f" cells resumed after an interruption: {p['resumed_cells']}"
    )
    if p["budgets"]:
        out.append("- budgets: " + "; ".join(f"{k}: {v}" for k, v in p["budgets"].items()))
    return out


def render_markdown(summary: dict[str, Any], figures: dict[str, str]) -> str:
    if summary.get("kind") == "suite":
        return render_suite_markdown(summary, figures)
    n, n_val, n_test = summary["n_seeds"], summary["n_val"], summary["n_test"]
    out = [
        f"# Tuner comparison: profile `{summary['profile']}`, {n} seeds",
        "",
        f"Seeds: {', '.join(map(str, summary['seeds']))}. Trials trained by the"
        f" {' and '.join(summary.get('engines', ['keras']))} engine"
        f"{'s' if len(summary.get('engines', [])) > 1 else ''} (`--engine`). Every figure"
        " below comes from these runs; the seed report's claims are shown beside them,"
        " marked as claimed.",
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
    if summary.get("recommendation"):
        out += [
            "## The seed report's recommendation: Hyperband, then Bayesian",
            "",
            summary["recommendation"]["text"],
            "",
        ]
    out += ["## Accuracy against size", "", *_hypervolume_text(summary["hypervolume"]), ""]
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
    b = summary.get("references")
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
    out += ["", "## Provenance", "", *_provenance_text(summary["provenance"]), ""]
    return "\n".join([*out, *_files_section(figures)]) + "\n"


def _files_section(figures: dict[str, str]) -> list[str]:
    """The report's last section: where the evidence is, and the figures."""
    return [
        "## Figures and files",
        "",
        "`cells.csv` (one row per cell) and `trials.csv` (one row per trial) hold the"
        " evidence behind every number here; `summary.json` holds the numbers.",
        "",
        *(f"![{name}]({path})" for name, path in figures.items()),
    ]


PARETO_TEXT = (
    "Each trial is a point (validation error, model size): error is 1 − validation accuracy"
    " (for regression, the validation loss: mean squared error on standardised targets), capped"
    " at 1; size is log10 of the model's parameters placed between the smallest (0) and largest"
    " (1) model of the search space. The hypervolume is the share of the unit square that a"
    " cell's trials dominate, up to the fixed reference point (1, 1) (Optuna's exact"
    " computation); 1 would be a perfect model of the smallest size. Single-objective tuners"
    " are scored the same way, so the table shows what multi-objective search buys."
)


def _hypervolume_text(hv: dict[str, Any] | None) -> list[str]:
    if hv is None:
        return [
            "Not in these records: they were made before each trial recorded its model's size."
            " Run the cells again to compare accuracy against size."
        ]
    per = hv["per_tuner"]
    lines = [
        hv["text"],
        "",
        PARETO_TEXT,
        "",
        "| tuner | hypervolume | average rank |",
        "|---|---|---|",
    ]
    ranks = (hv.get("friedman") or {}).get("average_ranks", {})
    for t, d in per.items():
        rank = f"{ranks[t]:.2f}" if t in ranks else "—"
        lines.append(f"| {t} | {_fmt('hypervolume', d)} | {rank} |")
    lines += ["", "Paired Wilcoxon on hypervolume by seed, Holm-corrected across pairs:", ""]
    lines += [
        f"- {p['a']} − {p['b']}: {p['mean_difference']:+.4f}, p_adj {p['p_adjusted']:.3f}"
        f", A12 {p['effect_size']:.2f}{' **significant**' if p['significant'] else ''}"
        for p in hv["pairs"]
    ]
    f = hv.get("friedman")
    if f:
        lines += ["", f"Friedman test on hypervolume: p = {f['p_value']:.3f}."]
    return lines


def _task_table(s: dict[str, Any]) -> str:
    score = s["score"]
    metric = "test_r2" if score == "R²" else "test_accuracy"
    lines = [
        f"**{s['task']}** ({s['n_seeds']} seeds; {s['n_train']} train / {s['n_val']} validation"
        f" / {s['n_test']} test rows; objective {s['objective']})",
        "",
        f"| tuner | test {score} | hypervolume | time (s) | epochs | Pareto set size |",
        "|---|---|---|---|---|---|",
    ]
    for t in s["tuners"]:
        d = s["per_tuner"][t]
        hv = s["hypervolume"]
        lines.append(
            f"| {t} | {_fmt(metric, d['test_score'])}"
            f" | {_fmt('hypervolume', hv['per_tuner'][t]) if hv else '—'}"
            f" | {_fmt('wall_time_s', d['wall_time_s'])} | {_fmt('epochs', d['epochs_trained'])}"
            f" | {d['pareto_size']['mean']:.1f} |"
        )
    return "\n".join(lines)


def render_suite_markdown(summary: dict[str, Any], figures: dict[str, str]) -> str:
    """report.md for results over several tasks (or a regression task)."""
    across = summary["across_tasks"]
    out = [
        f"# Tuner comparison over {len(summary['tasks'])} task(s): profile"
        f" `{summary['profile']}`",
        "",
        f"Tasks: {', '.join(summary['tasks'])}. Tuners: {', '.join(summary['tuners'])}."
        f" Trials trained by the {' and '.join(summary['engines'])} engine. Every figure below"
        " comes from these runs.",
        "",
        "## Verdict",
        "",
        summary["verdict"]["text"].replace(". ", ".\n\n", 1) if across else
        summary["verdict"]["text"],
        "",
    ]  # fmt: skip
    if across:
        out += ["## Across tasks", ""]
        f = across["friedman"]
        out.append(
            f"Every (task, seed) is a block: {across['blocks']} blocks. Tuners are ranked within"
            " each block on the test score (correct test rows, or R²; 1 = best, ties share"
            " ranks)."
        )
        out += ["", "| tuner | average rank | " + " | ".join(across["tasks"]) + " |"]
        out.append("|---|---|" + "---|" * len(across["tasks"]))
        ranks = across["average_ranks"] or {}
        for t in sorted(across["tuners"], key=lambda t: ranks.get(t, 0)):
            per = " | ".join(f"{across['per_task_ranks'][k][t]:.2f}" for k in across["tasks"])
            out.append(f"| {t} | {ranks.get(t, float('nan')):.2f} | {per} |")
        out.append("")
        if f:
            cd = (
                f" The Nemenyi critical difference is {f['critical_difference']:.2f}: tuners"
                " whose average ranks differ by less are not told apart (the diagram joins them)."
                if f["critical_difference"] is not None
                else ""
            )
            out += [f"Friedman test over the blocks: p = {f['p_value']:.3g}.{cd}", ""]
        out += [
            "Wins / ties / losses over tasks (row against column): a win is a task where the"
            " row's tuner has the higher test score by that task's paired Wilcoxon test,"
            " Holm-corrected across the task's pairs; a tie is a task where the test does not"
            " separate them.",
            "",
            "| | " + " | ".join(across["tuners"]) + " |",
            "|---|" + "---|" * len(across["tuners"]),
        ]
        for a in across["tuners"]:
            row = [
                "—" if a == b else "/".join(map(str, across["wins_ties_losses"][a][b]))
                for b in across["tuners"]
            ]
            out.append(f"| {a} | " + " | ".join(row) + " |")
        out.append("")
    for name, s in summary["per_task"].items():
        out += [f"## Task {name}", "", _task_table(s), ""]
        unit = "correct test rows" if s["score"] != "R²" else "test R²"
        out.append(
            f"Paired Wilcoxon on {unit} by seed, Holm-corrected across the task's pairs"
            f" (smallest possible p_adj with {s['n_seeds']} seeds: {s['min_p_adjusted']:.3f}):"
        )
        out.append("")
        for p in s["pairs"]:
            diff = (
                f"{p['mean_difference_rows']:+.2f} rows" if "mean_difference_rows" in p
                else f"{p['mean_difference']:+.4f}"
            )  # fmt: skip
            out.append(
                f"- {p['a']} − {p['b']}: {diff}, p_adj {p['p_adjusted']:.3f}, A12"
                f" {p['effect_size']:.2f}{' **significant**' if p['significant'] else ''}"
            )
        fr = s["friedman"]
        if fr:
            ranks_text = ", ".join(f"{t} {r:.2f}" for t, r in fr["average_ranks"].items())
            out += ["", f"Friedman p = {fr['p_value']:.3f}; average ranks: {ranks_text}."]
        if s["dropped_seeds"]:
            out += ["", f"Seeds not run by every tuner, left out: {s['dropped_seeds']}."]
        out += ["", "### Accuracy against size", "", *_hypervolume_text(s["hypervolume"]), ""]
    if summary["stopped"]:
        out += ["## Stopped cells", ""]
        out += [f"- {x['tuner']} seed {x['seed']} {x.get('task', '')}: {x['reason']}"
                for x in summary["stopped"]]  # fmt: skip
        out.append("")
    return "\n".join([*out, *_files_section(figures)]) + "\n"


# ---------------------------------------------------------------- evidence


CELL_COLUMNS = [
    "task", "tuner", "seed", "profile", "engine", "test_accuracy", "test_correct", "test_r2",
    "hypervolume", "pareto_size", "n_test", "test_loss",
    "best_val_accuracy", "best_val_loss", "wall_time_s", "calibration_s", "calibrated_time",
    "epochs_trained", "trials_completed", "trials_failed", "peak_rss_mb", "workers", "resumes",
]  # fmt: skip


def cell_rows(cells: Sequence[CellResult]) -> list[dict[str, Any]]:
    """One row per cell for cells.csv."""
    from hpo.analysis.suite import cell_hypervolume

    return [
        {
            **{k: getattr(c, k) for k in CELL_COLUMNS if hasattr(c, k)},
            "test_correct": None
            if c.test_accuracy is None
            else int(counts("test_accuracy", [c.test_accuracy], c.n_test)[0]),
            "hypervolume": cell_hypervolume(c),
            "pareto_size": None if c.pareto is None else len(c.pareto),
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
                    "task": c.task,
                    "tuner": c.tuner,
                    "seed": c.seed,
                    "trial_id": h.get("trial_id"),
                    "status": h.get("status"),
                    **{n: h.get("hyperparameters", {}).get(n) for n in names},
                    "val_accuracy": h["val_accuracy"],
                    "score": trial_score(h),
                    "params": h.get("params"),
                    "epochs": h["epochs"],
                    "elapsed_s": h["elapsed_s"],
                    "error": h.get("error"),
                }
            )
    base = ["task", "tuner", "seed", "trial_id", "status"]
    tail = ["val_accuracy", "score", "params", "epochs", "elapsed_s", "error"]
    return [*base, *names, *tail], rows


def _csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


# ---------------------------------------------------------------- figures


def plot_pareto(
    summary: dict[str, Any], results: Results, out: Path, colours: dict[str, str]
) -> dict[str, str]:
    """pareto.png: per task, each tuner's 50 % attainment curve over seeds (bold) and each
    seed's front (faint); hypervolume.png: the hypervolume so far against epochs."""
    import matplotlib.pyplot as plt

    from hpo.analysis.pareto import attainment, pareto_set, trial_points
    from hpo.experiment.space import param_range
    from hpo.experiment.tasks import get_task

    per_task = summary["per_task"] if summary.get("kind") == "suite" else {
        summary["task"]: {**summary, "hypervolume": summary["hypervolume"]}
    }  # fmt: skip
    figs = {}
    fig, panels = _panels(plt, len(per_task))
    grid = np.linspace(0, 1, stats.ANYTIME_POINTS)
    for ax, (name, s) in zip(panels, per_task.items(), strict=False):
        task = get_task(name)
        low, high = param_range(task)
        for t in s["tuners"]:
            cells = [
                next(c for c in results.cells if (c.task, c.tuner, c.seed) == (name, t, seed))
                for seed in s["seeds"]
            ]
            for cell in cells:
                on_front = set(pareto_set(cell.history, task))
                front = sorted(
                    (cell.history[i]["params"], e)
                    for i, e, _ in trial_points(cell.history, task)
                    if i in on_front
                )
                if front:
                    xs, ys = zip(*front, strict=True)
                    # The boundary runs on to the space's largest model: what the front dominates.
                    ax.step([*xs, high], [*ys, ys[-1]], where="post", c=colours[t], lw=0.6,
                            alpha=0.25)  # fmt: skip
            median = attainment([c.history for c in cells], task, grid)
            ax.plot(low * (high / low) ** grid, median, drawstyle="steps-post", c=colours[t],
                    lw=1.8, label=f"{t}: attained on half of {len(cells)} seeds")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("parameters (log scale)")
        ax.set_ylabel(
            "validation error" if not task.regression else "validation loss (capped at 1)"
        )
        ax.set_title(f"{name}: accuracy against size (faint: each seed's front)", fontsize=9)
        if ax.get_legend_handles_labels()[0]:  # records older than sizes draw no front
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "pareto.png", dpi=110)
    plt.close(fig)
    figs["accuracy-versus-size fronts"] = "pareto.png"

    fig, panels = _panels(plt, len(per_task))
    for ax, (name, s) in zip(panels, per_task.items(), strict=False):
        for t, d in s["hypervolume"]["anytime_epochs"].items():
            grid = np.asarray(d["grid"], dtype=float)
            ax.step(grid, np.asarray(d["median"], dtype=float), where="post", label=t,
                    c=colours[t])  # fmt: skip
            ax.fill_between(grid, np.asarray(d["q25"], dtype=float),
                            np.asarray(d["q75"], dtype=float), step="post", alpha=0.2,
                            color=colours[t])  # fmt: skip
        ax.set_xlabel("cumulative epochs")
        ax.set_ylabel("hypervolume so far (median, IQR)")
        ax.set_title(f"{name}: hypervolume against epochs, {s['n_seeds']} seeds", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "hypervolume.png", dpi=110)
    plt.close(fig)
    figs["hypervolume against epochs"] = "hypervolume.png"
    return figs


def _panels(plt: Any, n: int, columns: int = 3) -> tuple[Any, list[Any]]:
    """A figure of `n` panels, at most `columns` to a row; unused panels hidden."""
    cols = min(n, columns)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 4 * rows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _cd_figure(
    friedman: dict[str, Any], alpha: float, colours: dict[str, str], title: str, path: Path
) -> None:
    import matplotlib.pyplot as plt
    import pandas as pd
    import scikit_posthocs as sp

    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.22 * len(friedman["average_ranks"])))
    drawn = sp.critical_difference_diagram(
        friedman["average_ranks"],
        pd.DataFrame(friedman["nemenyi_p"]),
        cd=friedman["critical_difference"],
        alpha=alpha,
        ax=ax,
        color_palette=colours,
    )
    _lift_cd_bar(ax, drawn)
    ax.set_title(title, fontsize=8, pad=24)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_suite_figures(summary: dict[str, Any], results: Results, out: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    colours = {t: f"C{i}" for i, t in enumerate(summary["tuners"])}
    figures = {}
    across = summary["across_tasks"]
    f = across["friedman"] if across else None
    if f and f["critical_difference"] is not None:
        _cd_figure(
            f,
            summary["alpha"],
            colours,
            f"Average ranks on the test score over {across['blocks']} (task, seed) blocks"
            f" (1 = best); bars join tuners Nemenyi cannot tell apart;"
            f" CD {f['critical_difference']:.2f}",
            out / "critical_difference.png",
        )
        figures["critical difference across tasks"] = "critical_difference.png"
    if all(s["hypervolume"] is not None for s in summary["per_task"].values()):
        figures.update(plot_pareto(summary, results, out, colours))
    return figures


def plot_figures(summary: dict[str, Any], results: Results, out: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if summary.get("kind") == "suite":
        return plot_suite_figures(summary, results, out)

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
        b = summary.get("references")
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
        xs = [c.wall_time_s / (c.calibration_s or 1.0) if calibrated else c.wall_time_s
              for c in cells]  # fmt: skip
        ax.scatter(xs, [c.test_score for c in cells], label=t, c=colours[t], s=18)
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
        _cd_figure(
            friedman,
            summary["alpha"],
            colours,
            f"Average ranks on test accuracy (1 = best), {len(seeds)} seeds; bars join tuners"
            f" Nemenyi cannot tell apart; CD {friedman['critical_difference']:.2f}",
            out / "critical_difference.png",
        )
        figures["critical difference"] = "critical_difference.png"
    if summary["hypervolume"] is not None:
        figures.update(plot_pareto(summary, results, out, colours))
    return figures


def _lift_cd_bar(ax: Any, drawn: dict[str, list]) -> None:
    """Raise scikit-posthocs' CD bar and its label clear of the rank axis' tick labels
    (it draws them half a row above the axis, where the labels are)."""
    for line in ax.lines:
        if list(line.get_ydata()) == [0.5, 0.5]:
            line.set_ydata([1.4, 1.4])
    for text in ax.texts:
        if text.get_text().startswith("CD = "):
            text.set_y(1.5)
            text.set_verticalalignment("bottom")
    bottom, _ = ax.get_ylim()
    ax.set_ylim(bottom, 2.4)


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
