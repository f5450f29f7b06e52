"""The report's PNG figures (matplotlib, imported only when figures are drawn)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from hpo.analysis import stats
from hpo.experiment.results import Results

if TYPE_CHECKING:
    from hpo.analysis.budget import OverBudget
    from hpo.analysis.hypervolume import HypervolumeBlock
    from hpo.analysis.paired import Ranks
    from hpo.analysis.suite import SuiteSummary
    from hpo.analysis.summary import TaskSummary


class Panel(NamedTuple):
    """One task's panel of the accuracy-versus-size figures: who ran which seeds."""

    tuners: list[str]
    seeds: list[int]
    hypervolume: HypervolumeBlock


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def task_figures(s: TaskSummary, results: Results, out: Path) -> dict[str, str]:
    """One task's figures: test accuracy and time per tuner, anytime curves, paired lines,
    accuracy against cost, the critical-difference diagram and accuracy against size."""
    plt = _pyplot()
    tuners, seeds = s.tuners, s.seeds
    by_key = {(c.tuner, c.seed): c for c in results.cells}
    colours = {t: f"C{i}" for i, t in enumerate(tuners)}
    figures = {}
    for metric, label, filename in (
        ("test_accuracy", "test accuracy (held-out rows)", "test_accuracy.png"),
        ("wall_time_s", "search wall time (s)", "wall_time.png"),
    ):
        fig, ax = plt.subplots(figsize=(6, 4))
        data = [[getattr(by_key[t, seed], metric) for seed in seeds] for t in tuners]
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
        if metric == "test_accuracy" and s.references:
            for name, style in (("default_mlp", "--"), ("logistic_regression", ":")):
                ax.axhline(
                    s.references[name]["test_accuracy"]["mean"],
                    ls=style,
                    c="grey",
                    label=f"{name} (mean)",
                )
        ax.plot([], [], "k-", label="median")
        ax.plot([], [], "D", mfc="white", mec="black", ls="", label="mean")
        ax.legend(fontsize=8)
        ax.set_ylabel(label)
        ax.set_title(f"{label}, {len(seeds)} seeds ({s.profile})")
        fig.tight_layout()
        fig.savefig(out / filename, dpi=110)
        plt.close(fig)
        figures[label] = filename

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, (axis, anytime) in zip(axes, s.anytime.items(), strict=True):
        for t, d in anytime["per_tuner"].items():
            grid, q25, q75 = (np.asarray(d[k], dtype=float) for k in ("grid", "q25", "q75"))
            ax.step(grid, np.asarray(d["median"], dtype=float), where="post", label=t,
                    c=colours[t])  # fmt: skip
            ax.fill_between(grid, q25, q75, step="post", alpha=0.2, color=colours[t])
        ax.axvline(anytime["start"], ls=":", c="grey", lw=1)
        ax.set_xlabel(f"cumulative {axis}")
        ax.set_ylabel("best-so-far val accuracy (median, IQR)")
        ax.legend()
    fig.suptitle(f"Anytime performance ({s.profile}, {len(seeds)} seeds)")
    fig.tight_layout()
    fig.savefig(out / "anytime.png", dpi=110)
    plt.close(fig)
    figures["anytime performance"] = "anytime.png"

    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(len(tuners))
    rng = np.random.default_rng(1)
    for seed in seeds:
        ys = [s.per_seed[str(seed)][t] for t in tuners]
        ax.plot(x, np.add(ys, rng.uniform(-0.12, 0.12)), "o-", c="grey", alpha=0.5, ms=3)
    ax.set_xticks(x, tuners)
    ax.set_ylabel(f"correct test rows of {s.n_test} (jittered ±0.12 per seed)")
    ax.set_title(f"Test accuracy per seed, one line per seed ({len(seeds)} seeds)")
    fig.tight_layout()
    fig.savefig(out / "paired.png", dpi=110)
    plt.close(fig)
    figures["test accuracy per seed"] = "paired.png"

    fig, ax = plt.subplots(figsize=(6, 4))
    calibrated = all(by_key[t, seed].calibration_s for t in tuners for seed in seeds)
    for t in tuners:
        cells = [by_key[t, seed] for seed in seeds]
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

    f = s.friedman
    if f and f["critical_difference"] is not None:
        _cd_figure(
            f,
            s.alpha,
            colours,
            f"Average ranks on test accuracy (1 = best), {len(seeds)} seeds; bars join tuners"
            f" Nemenyi cannot tell apart; CD {f['critical_difference']:.2f}",
            out / "critical_difference.png",
        )
        figures["critical difference"] = "critical_difference.png"
    if s.hypervolume is not None:
        panels = {s.task: Panel(tuners, seeds, s.hypervolume)}
        figures.update(plot_pareto(panels, results, out, colours))
    figures.update(budget_figures(s.over_budget, s.alpha, out, colours))
    return figures


def suite_figures(s: SuiteSummary, results: Results, out: Path) -> dict[str, str]:
    """A suite's figures: the critical-difference diagram across tasks and, per task,
    accuracy against size."""
    _pyplot()
    colours = {t: f"C{i}" for i, t in enumerate(s.tuners)}
    figures = {}
    across = s.across_tasks
    f = across["friedman"] if across else None
    if across and f and f["critical_difference"] is not None:
        _cd_figure(
            f,
            s.alpha,
            colours,
            f"Average ranks on the test score over {across['blocks']} (task, seed) blocks"
            f" (1 = best); bars join tuners Nemenyi cannot tell apart;"
            f" CD {f['critical_difference']:.2f}",
            out / "critical_difference.png",
        )
        figures["critical difference across tasks"] = "critical_difference.png"
    panels = {
        name: Panel(t["tuners"], t["seeds"], t["hypervolume"])
        for name, t in s.per_task.items()
        if t["hypervolume"] is not None
    }
    if len(panels) == len(s.per_task):
        figures.update(plot_pareto(panels, results, out, colours))
    figures.update(budget_figures(s.over_budget, s.alpha, out, colours))
    return figures


def budget_figures(
    ob: OverBudget | None, alpha: float, out: Path, colours: Mapping[str, str]
) -> dict[str, str]:
    """over_budget.png: mean normalised regret (with its 95 % bootstrap band) and average
    rank against the fraction of the budget, in epochs and in seconds; and the
    critical-difference diagrams at 25, 50 and 100 % of the budget in epochs."""
    if ob is None:
        return {}
    plt = _pyplot()
    colours = {t: colours.get(t, f"C{i}") for i, t in enumerate(ob["tuners"])}
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True)
    for column, (axis, data) in enumerate(ob["axes"].items()):
        x = np.asarray(data["fractions"]) * 100
        top, bottom = axes[0][column], axes[1][column]
        for t in ob["tuners"]:
            curve = data["regret"][t]
            mean = np.array([np.nan if v is None else v for v in curve["mean"]])
            low = np.array([np.nan if v is None else v for v in curve["low"]])
            high = np.array([np.nan if v is None else v for v in curve["high"]])
            top.plot(x, mean, c=colours[t], lw=1.6, label=t)
            top.fill_between(x, low, high, color=colours[t], alpha=0.15, lw=0)
            rank = [np.nan if v is None else v for v in data["average_rank"][t]]
            bottom.plot(x, rank, c=colours[t], lw=1.6, label=t)
        top.axhline(1.0, c="grey", lw=0.6, ls="--")
        top.set_title(f"normalised regret against budget ({axis})", fontsize=9)
        top.set_ylabel("regret (0 best found, 1 random's final mean)", fontsize=8)
        bottom.set_ylabel("average rank (1 = best)", fontsize=8)
        bottom.set_xlabel(f"% of each task's longest search, in {axis}", fontsize=8)
        bottom.invert_yaxis()
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "over_budget.png", dpi=110)
    plt.close(fig)
    figures = {"over the budget": "over_budget.png"}
    epochs = ob["axes"]["epochs"]
    for key, cd in epochs["critical_differences"].items():
        if cd is None or cd["critical_difference"] is None:
            continue
        name = f"critical_difference_{float(key) * 100:.0f}.png"
        _cd_figure(
            cd,
            alpha,
            colours,
            f"Average ranks of the incumbent at {float(key):.0%} of the budget in epochs over"
            f" {ob['blocks']} (task, seed) blocks; CD {cd['critical_difference']:.2f}",
            out / name,
        )
        figures[f"critical difference at {float(key):.0%} of the budget"] = name
    return figures


def plot_pareto(
    panels: Mapping[str, Panel], results: Results, out: Path, colours: Mapping[str, str]
) -> dict[str, str]:
    """pareto.png: per task, each tuner's 50 % attainment curve over seeds (bold) and each
    seed's front (faint); hypervolume.png: the hypervolume so far against epochs."""
    from hpo.analysis.pareto import attainment, pareto_set, trial_points
    from hpo.analysis.tasks import judged_tasks

    plt = _pyplot()
    judged = judged_tasks(results.cells)
    figs = {}
    fig, axes = _panels(plt, len(panels))
    grid = np.linspace(0, 1, stats.ANYTIME_POINTS)
    for ax, (name, p) in zip(axes, panels.items(), strict=False):
        task = judged[name]
        low, high = task.size_range
        for t in p.tuners:
            cells = [
                next(c for c in results.cells if (c.task, c.tuner, c.seed) == (name, t, seed))
                for seed in p.seeds
            ]
            for cell in cells:
                on_front = set(pareto_set(cell.history, task))
                front = sorted(
                    (cell.history[i].params, e)
                    for i, e, _ in trial_points(cell.history, task)
                    if i in on_front
                )
                if front:
                    xs, ys = zip(*front, strict=True)
                    # The boundary runs on to the largest size: what the front dominates.
                    ax.step([*xs, high], [*ys, ys[-1]], where="post", c=colours[t], lw=0.6,
                            alpha=0.25)  # fmt: skip
            median = attainment([c.history for c in cells], task, grid)
            ax.plot(low * (high / low) ** grid, median, drawstyle="steps-post", c=colours[t],
                    lw=1.8, label=f"{t}: attained on half of {len(cells)} seeds")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("parameters (log scale)")
        ax.set_ylabel("validation error" if not task.minimise else "validation loss (capped at 1)")
        ax.set_title(f"{name}: accuracy against size (faint: each seed's front)", fontsize=9)
        if ax.get_legend_handles_labels()[0]:  # records older than sizes draw no front
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "pareto.png", dpi=110)
    plt.close(fig)
    figs["accuracy-versus-size fronts"] = "pareto.png"

    fig, axes = _panels(plt, len(panels))
    for ax, (name, p) in zip(axes, panels.items(), strict=False):
        for t, d in p.hypervolume["anytime_epochs"].items():
            grid = np.asarray(d["grid"], dtype=float)
            ax.step(grid, np.asarray(d["median"], dtype=float), where="post", label=t,
                    c=colours[t])  # fmt: skip
            ax.fill_between(grid, np.asarray(d["q25"], dtype=float),
                            np.asarray(d["q75"], dtype=float), step="post", alpha=0.2,
                            color=colours[t])  # fmt: skip
        ax.set_xlabel("cumulative epochs")
        ax.set_ylabel("hypervolume so far (median, IQR)")
        ax.set_title(f"{name}: hypervolume against epochs, {len(p.seeds)} seeds", fontsize=9)
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
    friedman: Ranks, alpha: float, colours: Mapping[str, str], title: str, path: Path
) -> None:
    """Demšar's critical-difference diagram of average ranks (scikit-posthocs draws it)."""
    import pandas as pd
    import scikit_posthocs as sp

    plt = _pyplot()
    k = len(friedman["average_ranks"])
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.22 * k))
    drawn = sp.critical_difference_diagram(
        friedman["average_ranks"],
        pd.DataFrame(friedman["nemenyi_p"]),
        cd=friedman["critical_difference"],
        alpha=alpha,
        ax=ax,
        color_palette=dict(colours),
    )
    _span_all_ranks(ax, drawn, k)
    _lift_cd_bar(ax)
    ax.set_title(title, fontsize=8, pad=24)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _span_all_ranks(ax: Any, drawn: Mapping[str, Sequence[Any]], k: int) -> None:
    """Draw the rank axis from 1 to k, Demšar's convention, not over the observed ranks
    only (which makes small rank gaps look large); the tuners' labels move to its ends."""
    ax.set_xlim(1, k)
    ax.set_xticks(range(1, k + 1))
    margin = 0.03 * (k - 1)
    for elbow, label in zip(drawn["elbows"], drawn["labels"], strict=True):
        x = 1 - margin if label.get_horizontalalignment() == "right" else k + margin
        elbow.set_xdata([x, *list(elbow.get_xdata())[1:]])
        elbow.set_clip_on(False)
        label.set_x(x)
    for marker in drawn["markers"]:
        marker.set_clip_on(False)


def _lift_cd_bar(ax: Any) -> None:
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
