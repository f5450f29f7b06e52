"""Tables: the main tables (in report.md and on the terminal), cells.csv and trials.csv."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo.analysis.hypervolume import cell_hypervolume
from hpo.analysis.paired import counts
from hpo.analysis.summary import METRICS
from hpo.analysis.tasks import judged_tasks
from hpo.experiment.results import CellResult

if TYPE_CHECKING:
    from hpo.analysis.suite import TaskComparison
    from hpo.analysis.summary import TaskSummary


def tuner_table(records: Sequence[CellResult]) -> str:
    """One row per task and tuner: seeds, mean test score (accuracy, or R² for regression),
    mean hypervolume, mean time, mean epochs and trials."""
    judged = judged_tasks(records)
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

        volumes = [cell_hypervolume(r, judged[task]) for r in rows]
        hv = "—" if None in volumes else f"{np.mean(volumes):.4f}"  # type: ignore[arg-type]
        kind = "acc" if rows[0].test_accuracy is not None else judged[task].score_name[:3]
        lines.append(
            f"{task:<{tw}} {tuner:<{w}} {profiles:<7} {len(rows):>5}"
            f" {kind:>3} {mean('test_score'):>6.4f} {hv:>8} {mean('wall_time_s'):>8.1f}"
            f" {mean('epochs_trained'):>7.1f} {mean('trials_completed'):>7.1f}"
        )
    return "\n".join(lines)


def fmt(metric: str, d: Mapping[str, float]) -> str:
    """A `stats.describe` (or `describe_fixed`) result in words, in the metric's unit:
    mean [95 % CI] (median), or the mean alone for a value a budget fixes."""
    if metric.endswith("accuracy"):
        f = "{:.2%}"
    elif metric in ("test_loss", "test_r2", "test_value", "hypervolume"):
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


def measured_table(s: TaskSummary) -> str:
    """The seed report's table, measured: mean [95 % CI] (median), and the claims beside it."""
    head = "| tuner | " + " | ".join(label for _, label, _, _ in METRICS) + " |"
    lines = [head, "|" + "---|" * (len(METRICS) + 1)]
    replayed = s.provenance.get("replayed") or {}
    kind = "replayed" if replayed and replayed["cells"] == replayed["of"] else "measured"
    for t in s.tuners:
        cells = [fmt(m, s.per_tuner[t][m]) for m, _, _, _ in METRICS]
        lines.append(f"| {t} ({kind}, n={s.n_seeds}) | " + " | ".join(cells) + " |")
    for t, claim in s.claimed.items():
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


def task_table(s: TaskComparison) -> str:
    """One task of a suite: test score, hypervolume, time, epochs, Pareto set size per tuner."""
    score = s["score"]
    metric = {"accuracy": "test_accuracy", "R²": "test_r2"}.get(score, "test_value")
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
            f"| {t} | {fmt(metric, d['test_score'])}"
            f" | {fmt('hypervolume', hv['per_tuner'][t]) if hv else '—'}"
            f" | {fmt('wall_time_s', d['wall_time_s'])} | {fmt('epochs', d['epochs_trained'])}"
            f" | {d['pareto_size']['mean']:.1f} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- evidence


CELL_COLUMNS = [
    "task", "tuner", "seed", "profile", "engine", "test_accuracy", "test_correct", "test_r2",
    "hypervolume", "pareto_size", "n_test", "test_loss",
    "best_val_accuracy", "best_val_loss", "wall_time_s", "calibration_s", "calibrated_time",
    "epochs_trained", "trials_completed", "trials_failed", "peak_rss_mb", "workers", "resumes",
]  # fmt: skip


def cell_rows(cells: Sequence[CellResult]) -> list[dict[str, Any]]:
    """One row per cell for cells.csv."""
    judged = judged_tasks(cells)
    return [
        {
            **{k: getattr(c, k) for k in CELL_COLUMNS if hasattr(c, k)},
            "test_correct": None
            if c.test_accuracy is None
            else int(counts("test_accuracy", [c.test_accuracy], c.n_test)[0]),
            "hypervolume": cell_hypervolume(c, judged[c.task]),
            "pareto_size": None if c.pareto is None else len(c.pareto),
            "calibrated_time": c.wall_time_s / c.calibration_s if c.calibration_s else None,
        }
        for c in cells
    ]


def trial_rows(cells: Sequence[CellResult]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and one row per trial for trials.csv (hyperparameters as columns)."""
    names = sorted({k for c in cells for h in c.history for k in h.hyperparameters})
    rows = []
    for c in cells:
        for h in c.history:
            rows.append(
                {
                    "task": c.task,
                    "tuner": c.tuner,
                    "seed": c.seed,
                    "trial_id": h.trial_id,
                    "status": str(h.status),
                    **{n: h.hyperparameters.get(n) for n in names},
                    "val_accuracy": h.val_accuracy,
                    "score": h.score,
                    "params": h.params,
                    "epochs": h.epochs,
                    "elapsed_s": h.elapsed_s,
                    "error": h.error,
                }
            )
    base = ["task", "tuner", "seed", "trial_id", "status"]
    tail = ["val_accuracy", "score", "params", "epochs", "elapsed_s", "error"]
    return [*base, *names, *tail], rows


def csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """CSV with a header row, "\\n" line ends."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
