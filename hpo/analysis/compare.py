"""The regression gate: does a candidate run find worse models, or search slower, than a baseline?

Per task and tuner, cells are paired by seed. Accuracy regresses when the mean
test accuracy drop exceeds a practical threshold (default: one test row; for a
regression task, test R² and 0.01; for a task's own score, 0.01 of it) *and* a
one-sided paired Wilcoxon test says
the drop is not noise. Cost regresses when
the time / calibration ratio grows by more than a threshold (default 25 %,
geometric mean over seeds) *and* the same kind of test agrees. Budgets (trials,
epochs) are machine-independent and must match exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from hpo.analysis.stats import correct_rows
from hpo.errors import HpoError
from hpo.experiment.profiles import DEFAULT_TASK
from hpo.experiment.results import CellResult, Results

ALPHA = 0.05
DEFAULT_SLOWDOWN = 0.25


R2_THRESHOLD = 0.01  # a regression task's practical drop in test R²


@dataclass
class TunerVerdict:
    tuner: str
    seeds: list[int]
    baseline: dict[str, float]
    candidate: dict[str, float]
    accuracy_drop: float
    accuracy_p: float
    slowdown: float | None
    slowdown_p: float | None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # differences explained by failures
    task: str = DEFAULT_TASK
    regression: bool = False  # scores are test R², not accuracies

    @property
    def label(self) -> str:
        return self.tuner if self.task == DEFAULT_TASK else f"{self.task}/{self.tuner}"

    @property
    def regressed(self) -> bool:
        return bool(self.problems)


def _one_sided_p(worse: np.ndarray) -> float:
    """p that the paired values `worse` (positive = candidate worse) are centred at 0 or below."""
    if np.all(worse == 0):
        return 1.0
    return float(sps.wilcoxon(worse, zero_method="wilcox", alternative="greater").pvalue)


def min_seeds(alpha: float = ALPHA) -> int:
    """Fewest paired seeds with which a one-sided exact Wilcoxon test can reach alpha."""
    return math.ceil(math.log2(1 / alpha))


def _by_key(results: Results) -> dict[tuple[str, str, int], CellResult]:
    return {(c.task, c.tuner, c.seed): c for c in results.cells}


def _profile(results: Results, name: str) -> str:
    profiles = sorted({c.profile for c in results.cells})
    if len(profiles) != 1:
        raise HpoError(f"{name} mixes profiles {', '.join(profiles)}")
    return profiles[0]


def compare(
    baseline: Results,
    candidate: Results,
    accuracy_threshold: float | None = None,
    slowdown_threshold: float = DEFAULT_SLOWDOWN,
    alpha: float = ALPHA,
) -> list[TunerVerdict]:
    """One verdict per tuner present in both runs; HpoError on input that cannot be judged."""
    base_profile, cand_profile = _profile(baseline, "baseline"), _profile(candidate, "candidate")
    if base_profile != cand_profile:
        raise HpoError(
            f"baseline is profile {base_profile!r}, candidate {cand_profile!r}: "
            "budgets differ, so they cannot be compared"
        )
    base, cand = _by_key(baseline), _by_key(candidate)
    pairs = [
        (task, t)
        for task, t in dict.fromkeys((c.task, c.tuner) for c in candidate.cells)
        if any(k[:2] == (task, t) for k in base)
    ]
    if not pairs:
        raise HpoError("no tuner appears in both baseline and candidate on the same task")
    verdicts = []
    for task, tuner in pairs:
        name = tuner if task == DEFAULT_TASK else f"{task}/{tuner}"
        seeds = sorted(
            {s for k, t, s in cand if (k, t) == (task, tuner)}
            & {s for k, t, s in base if (k, t) == (task, tuner)}
        )
        if not seeds:
            raise HpoError(f"{name}: candidate seeds do not overlap the baseline's")
        if len(seeds) < min_seeds(alpha):
            raise HpoError(
                f"{name}: only {len(seeds)} paired seed(s); a one-sided paired test needs"
                f" at least {min_seeds(alpha)} to reach alpha={alpha}"
            )
        b = [base[task, tuner, s] for s in seeds]
        c = [cand[task, tuner, s] for s in seeds]
        tables = {x.replay.hash if x.replay else None for x in b + c}
        if len(tables) > 1:
            how = "one replayed, one live" if None in tables else "replayed from different tables"
            raise HpoError(f"{name}: the runs were {how}, so their times cannot be compared")
        if not all(x.replay or x.calibration_s for x in b + c):
            raise HpoError(f"{name}: a cell has no calibration figure, so cost cannot be judged")
        n_test = b[0].n_test
        regression = b[0].test_accuracy is None
        if regression:  # R² as it is; the threshold is in R²
            threshold = R2_THRESHOLD if accuracy_threshold is None else accuracy_threshold
            drop = np.array([x.test_score for x in b]) - np.array([y.test_score for y in c])
        else:
            threshold = 1 / n_test if accuracy_threshold is None else accuracy_threshold
            # Correct test rows, not float accuracies: equal counts are exact ties.
            drop = (
                correct_rows([x.test_score for x in b], n_test)
                - correct_rows([y.test_score for y in c], n_test)
            ) / n_test
        v = TunerVerdict(
            tuner=tuner,
            seeds=seeds,
            baseline=_figures(b),
            candidate=_figures(c),
            accuracy_drop=float(drop.mean()),
            accuracy_p=_one_sided_p(drop),
            slowdown=None,
            slowdown_p=None,
            task=task,
            regression=regression,
        )
        if v.accuracy_drop > threshold and v.accuracy_p < alpha:
            own = b[0].task_info.score if b[0].task_info else "R²"  # a task's own, by name
            what, fmt = (f"test {own}", "{:.3f}") if regression else ("test accuracy", "{:.2%}")
            v.problems.append(
                f"{what} fell by {fmt.format(v.accuracy_drop)} on average"
                f" (> {fmt.format(threshold)}; one-sided Wilcoxon p={v.accuracy_p:.3f})"
            )
        for x, y in zip(b, c, strict=True):
            problem = _budget_problem(x, y)
            if problem:
                v.problems.append(problem)
            elif x.trials_failed or y.trials_failed:
                v.notes.append(
                    f"seed {x.seed}: {x.trials_failed} -> {y.trials_failed} failed trial(s);"
                    f" budget {x.trials_completed}+{x.trials_failed} trials / {x.epochs_trained}"
                    f" epochs -> {y.trials_completed}+{y.trials_failed} / {y.epochs_trained}"
                )
        log_ratio = np.log([_normalised(y) / _normalised(x) for x, y in zip(b, c, strict=True)])
        v.slowdown = float(math.exp(log_ratio.mean()) - 1)
        v.slowdown_p = _one_sided_p(log_ratio)
        if v.slowdown > slowdown_threshold and v.slowdown_p < alpha:
            v.problems.append(
                f"normalised search time grew by {v.slowdown:.0%}"
                f" (> {slowdown_threshold:.0%}; one-sided Wilcoxon p={v.slowdown_p:.3f})"
            )
        verdicts.append(v)
    return verdicts


def _budget_problem(base: CellResult, cand: CellResult) -> str | None:
    """Why two cells of one tuner and seed did not train the same budget, if they did not.

    Without failed trials, trials and epochs must match exactly. A failed trial
    (diverged, raised) trains fewer epochs and, in Hyperband, changes which
    trials are promoted: then the difference is explained by the recorded
    failures, and only a run with no failures to explain it is held to the plan.
    """
    same = (base.trials_completed, base.epochs_trained) == (
        cand.trials_completed,
        cand.epochs_trained,
    )
    if same or base.trials_failed or cand.trials_failed:
        return None
    return (
        f"seed {base.seed}: budget changed from {base.trials_completed} trials /"
        f" {base.epochs_trained} epochs to {cand.trials_completed} / {cand.epochs_trained}"
        " with no failed trial to explain it"
    )


def _normalised(cell: CellResult) -> float:
    """Search time in units of this machine's calibration fit (compare checks it is there);
    a replayed search's as it is: the table's recorded trainings, the same on any machine."""
    if cell.replay is not None:
        return cell.wall_time_s
    assert cell.calibration_s
    return cell.wall_time_s / cell.calibration_s


def _figures(cells: list[CellResult]) -> dict[str, float]:
    return {
        "test_accuracy": float(np.mean([c.test_score for c in cells])),  # or R²
        "wall_time_s": float(np.mean([c.wall_time_s for c in cells])),
        "normalised_time": float(np.mean([_normalised(c) for c in cells])),
        "epochs_trained": float(np.mean([c.epochs_trained for c in cells])),
        "trials_completed": float(np.mean([c.trials_completed for c in cells])),
    }


def _score(value: float, regression: bool, signed: bool = False) -> str:
    return (
        f"{value:{'+' if signed else ''}.3f}"
        if regression
        else f"{value:{'+' if signed else ''}.2%}"
    )


def render(verdicts: list[TunerVerdict]) -> str:
    """Baseline and candidate side by side, and a verdict per tuner."""
    w = max([10, *(len(v.label) for v in verdicts)])
    lines = [
        f"{'tuner':<{w}} {'seeds':>5} {'test acc (R²)':>17} {'norm. time':>15} {'epochs':>13}"
        "  verdict",
    ]
    for v in verdicts:
        b, c = v.baseline, v.candidate
        before, after = (_score(x["test_accuracy"], v.regression) for x in (b, c))
        lines.append(
            f"{v.label:<{w}} {len(v.seeds):>5} {before:>8}→{after:<8}"
            f" {b['normalised_time']:>7.2f}→{c['normalised_time']:<7.2f}"
            f" {b['epochs_trained']:>6.0f}→{c['epochs_trained']:<6.0f}"
            f"  {'REGRESSION' if v.regressed else 'ok'}"
        )
        detail = (
            f"    {'R²' if v.regression else 'accuracy'} drop"
            f" {_score(v.accuracy_drop, v.regression, signed=True)} (p={v.accuracy_p:.3f}),"
            f" slowdown {v.slowdown:+.0%} (p={v.slowdown_p:.3f})"
        )
        lines.append(detail)
        lines.extend(f"    - {p}" for p in v.problems)
        lines.extend(f"    (note) {n}" for n in v.notes)
    return "\n".join(lines)
