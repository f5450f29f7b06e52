"""report.md: the summary's numbers in words, for one task or a suite of tasks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hpo.analysis.paired import CONCLUSIONS, MIN_SEEDS_FOR_CD, Pair
from hpo.analysis.replayed import replayed_words
from hpo.analysis.report.tables import fmt, measured_table, task_table
from hpo.analysis.tasks import OBSERVED_SIZES_TEXT, sizes_observed

if TYPE_CHECKING:
    from hpo.analysis.budget import Curve, OverBudget
    from hpo.analysis.hypervolume import HypervolumeBlock
    from hpo.analysis.suite import SuiteSummary
    from hpo.analysis.summary import Provenance, TaskSummary
    from hpo.analysis.workers import AcrossWorkers

PARETO_TEXT = (
    "Each trial is a point (validation error, model size): error is 1 − validation accuracy"
    " (for regression, the validation loss: mean squared error on standardised targets), capped"
    " at 1; size is log10 of the model's parameters placed between the smallest (0) and largest"
    " (1) model of the search space. The hypervolume is the share of the unit square that a"
    " cell's trials dominate, up to the fixed reference point (1, 1) (Optuna's exact"
    " computation); 1 would be a perfect model of the smallest size. Single-objective tuners"
    " are scored the same way, so the table shows what multi-objective search buys."
)


def _trained_by(s: TaskSummary) -> str:
    """Who trained the trials: the engine, or the table a replay looked every epoch up in."""
    return trained_by(s.engines, s.provenance.get("replayed"), " (`--engine`)")


def _suite_trained_by(s: SuiteSummary) -> str:
    return trained_by(s.engines, s.replayed)


def trained_by(engines: Sequence[str], replayed: Mapping[str, Any] | None, hint: str = "") -> str:
    """'Trials trained by the graph engine.', or where replayed cells were looked up."""
    said = f"the {' and '.join(engines)} engine{'s' if len(engines) > 1 else ''}"
    words = replayed_words(replayed)
    if replayed is None or words is None:
        return f"Trials trained by {said}{hint}."
    if replayed["cells"] == replayed["of"]:
        return (
            f"Results {words}: each trial's epochs were looked up in a table of trainings by"
            f" {said} (`hpo run --replay`), on a simulated clock of the table's training times."
        )
    return (
        f"Results {words}: the replayed cells' epochs were looked up in a table of trainings"
        f" by {said}, on a simulated clock; the other cells were trained live."
    )


def task_markdown(s: TaskSummary, figures: Mapping[str, str]) -> str:
    """report.md for tuners on one classification task."""
    n, n_val, n_test = s.n_seeds, s.n_val, s.n_test
    out = [
        f"# Tuner comparison: profile `{s.profile}`, {n} seeds",
        "",
        f"Seeds: {', '.join(map(str, s.seeds))}. {_trained_by(s)}"
        " Every figure below comes from these runs"
        + (
            "; the seed report's claims are shown beside them, marked as claimed."
            if s.claimed
            else "."
        ),
        "",
        "## Verdict",
        "",
        s.verdict["text"],
        "",
        "## The seed report's table, measured",
        "",
        "Mean [95 % t-interval of the mean] (median), over seeds. Epochs and trials are"
        " fixed by the budget: shown without an interval (min and max if a failed trial"
        " changed them).",
        "",
        measured_table(s),
        "",
        f"*Best val acc* is the best trial's score on {n_val} validation rows (one row ="
        f" {1 / n_val:.1%}): it is selected as a maximum over many trials, so it is"
        f" **optimistically biased**. *Test acc* is that trial's model on {n_test} rows the"
        f" tuner never saw (one row = {1 / n_test:.2%}): the generalization estimate.",
        "",
        "## Per seed",
        "",
        _per_seed_table(s),
        "",
        "## Paired comparisons",
        "",
        "Wilcoxon signed-rank on correct test rows (ties are ties), paired by seed, exact"
        " where ties allow, Holm-corrected across pairs within each metric; A12 is the"
        " Vargha–Delaney effect size (0.5 = no effect, > 0.5 = a tends to be larger).",
        f" With {n} seeds the smallest two-sided p-value is {s.min_p_value:.4f},"
        f" {s.min_p_adjusted:.4f} after Holm across the pairs.",
        *([" " + _margin_text(s.smallest_effect["text"], s.alpha)] if s.smallest_effect else []),
        "",
        _pairs_table(s.pairs, n_test),
        "",
    ]
    if s.friedman is not None:
        f = s.friedman
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
    if s.recommendation:
        out += [
            "## The seed report's recommendation: Hyperband, then Bayesian",
            "",
            s.recommendation["text"],
            "",
        ]
    out += ["## Accuracy against size", "", *_hypervolume_text(s.hypervolume, s.task), ""]
    out += ["## Failures and dropped seeds", "", *_failures_text(s), ""]
    out += ["## Anytime performance", ""]
    for axis, data in s.anytime.items():
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
    out += ["", "## Untuned references on the same splits", "", *_references_text(s)]
    out += ["", *budget_text(s.over_budget), *workers_text(s.workers)]
    out += ["## Provenance", "", *_provenance_text(s.provenance), ""]
    return "\n".join([*out, *_files_section(figures)]) + "\n"


def _margin_text(margin: str, alpha: float) -> str:
    """How the report judges a difference against the smallest effect that matters."""
    return (
        f"Smallest effect that matters: {margin} (`hpo report --smallest-effect`). *TOST* is the"
        " equivalence test within it, two one-sided paired t-tests on the mean difference,"
        " Holm-corrected across pairs; the conclusion puts both tests together: different"
        f" by at least the margin when the whole {(1 - alpha) * 100:g} % t-interval of the"
        " mean difference lies beyond it, below the margin when a significant difference is"
        " also equivalent within it, equivalent when only TOST rejects, undecided when"
        " neither test does."
    )


def _pairs_table(pairs: Sequence[Pair], n_test: int) -> str:
    lines = [
        "| pair | metric | mean difference (a − b) | p | p (Holm) | A12 | significant"
        " | TOST p (Holm) | conclusion |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in pairs:
        diff = (
            f"{p['mean_difference']:+.2%} ({p['mean_difference'] * n_test:+.1f} rows)"
            if p["metric"].endswith("accuracy")
            else f"{p['mean_difference']:+.1f} s"
        )
        tost, said = (
            (f"{p['tost_p_adjusted']:.4f}", CONCLUSIONS[p["conclusion"]])
            if "conclusion" in p
            else ("—", "—")
        )
        lines.append(
            f"| {p['a']} vs {p['b']} | {p['metric']} | {diff} | {p['p_value']:.4f} |"
            f" {p['p_adjusted']:.4f} | {p['effect_size']:.2f} |"
            f" {'yes' if p['significant'] else 'no'} | {tost} | {said} |"
        )
    return "\n".join(lines)


def _per_seed_table(s: TaskSummary) -> str:
    refs = list((s.references or {}).keys())
    head = "| seed | " + " | ".join(s.tuners + refs) + " |"
    lines = [head, "|" + "---|" * (1 + len(s.tuners) + len(refs))]
    per_ref = s.per_seed_references or {}
    for seed, row in s.per_seed.items():
        cells = [str(row[t]) for t in s.tuners]
        cells += [str(per_ref.get(seed, {}).get(r, "—")) for r in refs]
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    lines.append(f"\nCorrect test rows of {s.n_test}, per seed (the values every test above uses).")
    return "\n".join(lines)


def _failures_text(s: TaskSummary) -> list[str]:
    out = []
    for t in s.tuners:
        failed = s.failures.get(t, [])
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
    for d in s.dropped_seeds:
        why = "; ".join(f"{x['tuner']} stopped: {x['reason']}" for x in d["stopped"])
        out.append(
            f"- Seed {d['seed']} is left out of every comparison: no record of"
            f" {', '.join(d['missing'])}" + (f" ({why})." if why else " (stopped or not run).")
        )
    if s.dropped_seeds:
        out.append(f"- Comparisons use only the {s.n_seeds} seed(s) every tuner completed.")
    return out


def _references_text(s: TaskSummary) -> list[str]:
    out = []
    if s.references:
        for ref in s.references.values():
            vs = "; ".join(
                f"{t} {d['mean_difference']:+.2%} (p_adj {d['p_adjusted']:.3f})"
                for t, d in ref["vs_tuners"].items()
            )
            out.append(
                f"- {ref['label']}: test acc {fmt('test_accuracy', ref['test_accuracy'])}."
                f" Tuners minus it: {vs}."
            )
        out.append(
            "- Paired Wilcoxon on correct rows, Holm-corrected across all tuner-reference pairs."
        )
    else:
        out.append("- Not in these results (`pytest benchmarks` records them).")
    if s.normalised_score:
        if s.normalised_score_note is not None:
            scores = f"not defined: {s.normalised_score_note}"
        else:
            scores = ", ".join(f"{t} {v:.2f}" for t, v in s.normalised_score.items())
        out.append(
            f"- Normalised score on test accuracy (bayesmark-style: 0 = best seen on each seed,"
            f" 1 = random search): {scores}."
        )
    return out


def _provenance_text(p: Provenance) -> list[str]:
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


def budget_text(ob: OverBudget | None) -> list[str]:
    """The section "Over the budget": regret and average rank at 25, 50 and 100 % of each
    budget axis, the critical differences there, and who leads (`hpo.analysis.budget`)."""
    if ob is None:
        return []
    tasks = "one task" if len(ob["tasks"]) == 1 else f"{len(ob['tasks'])} tasks"
    out = [
        "## Over the budget",
        "",
        f"Each search's incumbent (its best validation objective so far) against its budget,"
        f" over {tasks} ({ob['blocks']} task × seed blocks), for the tuners every task ran;"
        f" {ob['normalisation']}. A task's budget is its longest search; a search that ended"
        " earlier keeps its last incumbent. Average rank: within each block, on the"
        " incumbent (1 = best)."
        + (
            f" Regret is defined on {', '.join(ob['regret_tasks']) or 'no task'}."
            if ob["regret_tasks"] != ob["tasks"]
            else ""
        ),
        "",
    ]
    for axis, data in ob["axes"].items():
        marks = [(f, int(round(f * (len(data["fractions"]) - 1)))) for f in (0.25, 0.5, 1.0)]
        head = " | ".join(f"regret at {f:.0%}" for f, _ in marks)
        rank_head = " | ".join(f"rank at {f:.0%}" for f, _ in marks)
        out += [f"Budget in {axis}:", "", f"| tuner | {head} | {rank_head} |"]
        out.append("|---|" + "---|" * (2 * len(marks)))
        for t in ob["tuners"]:
            regret = data["regret"][t]
            cells = [_interval(regret, i) for _, i in marks]
            cells += [_maybe(data["average_rank"][t][i], ".2f") for _, i in marks]
            out.append(f"| {t} | " + " | ".join(cells) + " |")
        out.append("")
        for f, _ in marks:
            cd = data["critical_differences"].get(f"{f:g}")
            if cd is None:
                continue
            order = ", ".join(
                f"{t} {r:.2f}" for t, r in sorted(cd["average_ranks"].items(), key=lambda x: x[1])
            )
            diff = cd["critical_difference"]
            out.append(
                f"- At {f:.0%} of the budget in {axis}: Friedman p {cd['p_value']:.3g};"
                f" average ranks {order}"
                + (f"; Nemenyi critical difference {diff:.2f}." if diff is not None else ".")
            )
        dominant = data["dominant"]
        led = [t for t in dict.fromkeys(data["leader"]) if t is not None]
        out.append(
            f"- Over the whole budget in {axis}: **{dominant}** has the lowest mean regret"
            " wherever any tuner has one."
            if dominant is not None
            else f"- Over the whole budget in {axis}: no tuner leads throughout; the lowest"
            f" mean regret passes from {' to '.join(led) if led else 'none'}."
        )
        out.append("")
    return out


def workers_text(ac: AcrossWorkers | None) -> list[str]:
    """The section "Several workers": each tuner run with one worker and with more, per task
    (`hpo.analysis.workers`)."""
    if ac is None:
        return []
    out = [
        "## Several workers",
        "",
        "Each tuner run with one worker and with k at once (Keras Tuner's workers live, or a"
        " replay's simulated asynchronous workers on its table's clock), compared as arms"
        " of their own (`TUNER@k` above). Search time is each search's wall clock; the"
        " speed-up is the median over seeds of t(1) / t(k); the target is the first quartile"
        " of the tuner's own final best validation objectives with one worker (what three in"
        " four single-worker searches reach), and its time the median over seeds of when the"
        " incumbent first reached it (none when fewer than half did).",
        "",
        "| task | tuner | workers | seeds | median search time (s) | speed-up | time to its"
        " one-worker result (s) | seeds reaching it |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, tuners in ac["per_task"].items():
        for tuner, rows in tuners.items():
            for r in rows:
                speed = "—" if r["speedup"] is None else f"{r['speedup']:.2f}x"
                reach = _maybe(r["median_time_to_target_s"], ".1f")
                out.append(
                    f"| {task} | {tuner} | {r['workers']} | {r['seeds']} |"
                    f" {r['median_time_s']:.1f} | {speed} | {reach} | {r['reached']} |"
                )
    out.append("")
    return out


def _interval(curve: Curve, i: int) -> str:
    mean, low, high = curve["mean"][i], curve["low"][i], curve["high"][i]
    if mean is None:
        return "—"
    if low is None or high is None:
        return f"{mean:.3f}"
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def _maybe(value: float | None, form: str) -> str:
    return "—" if value is None else format(value, form)


def _files_section(figures: Mapping[str, str]) -> list[str]:
    """The report's last section: where the evidence is, and the figures."""
    return [
        "## Figures and files",
        "",
        "`cells.csv` (one row per cell) and `trials.csv` (one row per trial) hold the"
        " evidence behind every number here; `summary.json` holds the numbers.",
        "",
        *(f"![{name}]({path})" for name, path in figures.items()),
    ]


def _hypervolume_text(hv: HypervolumeBlock | None, task: str) -> list[str]:
    if hv is None:
        return [
            "Not in these records: they were made before each trial recorded its model's size."
            " Run the cells again to compare accuracy against size."
        ]
    lines = [
        hv["text"],
        "",
        PARETO_TEXT + (f" {OBSERVED_SIZES_TEXT}" if sizes_observed(task) else ""),
        "",
        "| tuner | hypervolume | average rank |",
        "|---|---|---|",
    ]
    f = hv["friedman"]
    ranks = f["average_ranks"] if f else {}
    for t, d in hv["per_tuner"].items():
        rank = f"{ranks[t]:.2f}" if t in ranks else "—"
        lines.append(f"| {t} | {fmt('hypervolume', d)} | {rank} |")
    lines += ["", "Paired Wilcoxon on hypervolume by seed, Holm-corrected across pairs:", ""]
    lines += [
        f"- {p['a']} − {p['b']}: {p['mean_difference']:+.4f}, p_adj {p['p_adjusted']:.3f}"
        f", A12 {p['effect_size']:.2f}{' **significant**' if p['significant'] else ''}"
        for p in hv["pairs"]
    ]
    if f:
        lines += ["", f"Friedman test on hypervolume: p = {f['p_value']:.3f}."]
    return lines


def suite_markdown(s: SuiteSummary, figures: Mapping[str, str]) -> str:
    """report.md for results over several tasks (or a regression task)."""
    across = s.across_tasks
    out = [
        f"# Tuner comparison over {len(s.tasks)} task(s): profile `{s.profile}`",
        "",
        f"Tasks: {', '.join(s.tasks)}. Tuners: {', '.join(s.tuners)}. {_suite_trained_by(s)}"
        " Every figure below comes from these runs.",
        "",
        "## Verdict",
        "",
        s.verdict.replace(". ", ".\n\n", 1) if across else s.verdict,
        "",
    ]
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
    for name, task in s.per_task.items():
        out += [f"## Task {name}", "", task_table(task), ""]
        unit = "correct test rows" if task["score"] == "accuracy" else f"test {task['score']}"
        out.append(
            f"Paired Wilcoxon on {unit} by seed, Holm-corrected across the task's pairs (smallest"
            f" possible p_adj with {task['n_seeds']} seeds: {task['min_p_adjusted']:.3f})."
            f" {_margin_text(task['smallest_effect']['text'], s.alpha)}"
        )
        out.append("")
        for p in task["pairs"]:
            diff = (
                f"{p['mean_difference_rows']:+.2f} rows"
                if "mean_difference_rows" in p
                else f"{p['mean_difference']:+.4f}"
            )
            judged = (
                f"; TOST p_adj {p['tost_p_adjusted']:.3f}: {CONCLUSIONS[p['conclusion']]}"
                if "conclusion" in p
                else ""
            )
            out.append(
                f"- {p['a']} − {p['b']}: {diff}, p_adj {p['p_adjusted']:.3f}, A12"
                f" {p['effect_size']:.2f}{' **significant**' if p['significant'] else ''}{judged}"
            )
        fr = task["friedman"]
        if fr:
            ranks_text = ", ".join(f"{k} {r:.2f}" for k, r in fr["average_ranks"].items())
            out += ["", f"Friedman p = {fr['p_value']:.3f}; average ranks: {ranks_text}."]
        if task["dropped_seeds"]:
            out += ["", f"Seeds not run by every tuner, left out: {task['dropped_seeds']}."]
        hv_text = _hypervolume_text(task["hypervolume"], name)
        out += ["", "### Accuracy against size", "", *hv_text, ""]
    out += [*budget_text(s.over_budget), *workers_text(s.workers)]
    if s.stopped:
        out += ["## Stopped cells", ""]
        out += [
            f"- {x['tuner']} seed {x['seed']} {x.get('task', '')}: {x['reason']}" for x in s.stopped
        ]
        out.append("")
    return "\n".join([*out, *_files_section(figures)]) + "\n"
