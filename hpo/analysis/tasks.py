"""How the analysis judges a task's results, without the task's code.

A built-in task (`hpo.experiment.tasks.TASKS`) is judged as it always was: by its
Task, and model sizes placed on the range of hpo's own MLP space for it
(`hpo.experiment.space.param_range`). A task of a user's own is never imported
here (its module may build Keras models, or be absent where the report is made):
its records say how to judge it (`CellResult.task_info`), and since its search
space is its own, model sizes are placed on the range observed in the records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hpo.errors import HpoError
from hpo.experiment.records import TrialRecord
from hpo.experiment.results import CellResult
from hpo.experiment.tasks import TASKS, Task


class Judged(Protocol):
    """What the accuracy-versus-size objectives need of a task (`hpo.analysis.pareto`)."""

    @property
    def minimise(self) -> bool:
        """Whether the tuners' objective is minimised (a loss)."""
        ...

    @property
    def size_range(self) -> tuple[int, int]:
        """The parameter counts placed at size 0 and size 1."""
        ...


@dataclass(frozen=True)
class JudgedTask:
    """A task as the analysis judges it.

    - `minimise`: the tuners' validation objective is minimised (a loss);
    - `regression`: the test score does not count test rows (R², or a metric of the
      task's own), so tests take it as it is rather than as correct rows;
    - `score_name`: what the test score is called (accuracy, R², a metric's name);
    - `size_range`: the parameter counts at size 0 and 1 of `hpo.analysis.pareto.size`.
    """

    name: str
    minimise: bool
    regression: bool
    score_name: str
    size_range: tuple[int, int]
    objective: str = "val_accuracy"

    @property
    def score_bounds(self) -> tuple[float, float]:
        """Where the test score can lie: accuracy in [0, 1], R² at most 1, others anywhere."""
        if not self.regression:
            return (0.0, 1.0)
        return (-float("inf"), 1.0) if self.score_name == "R²" else (-float("inf"), float("inf"))


def builtin_judged(task: Task) -> JudgedTask:
    """A task searched on hpo's own MLP space: its sizes span the space's smallest to largest
    model (`hpo.experiment.space.param_range`, which loads the task's data for its width)."""
    from hpo.experiment.space import param_range

    return JudgedTask(
        name=task.name,
        minimise=task.minimise,
        regression=task.regression,
        score_name=task.score_name,
        size_range=param_range(task),
        objective=task.objective,
    )


def observed_range(histories: Iterable[Sequence[TrialRecord]]) -> tuple[int, int]:
    """(min, max) of the parameter counts the trials of `histories` recorded; (1, 1) if
    none did (records made before trials recorded their model's size)."""
    sizes = [int(h.params) for history in histories for h in history if h.params]
    return (min(sizes), max(sizes)) if sizes else (1, 1)


def judged_task_of(task: Task, history: Sequence[TrialRecord] = ()) -> JudgedTask:
    """A Task judged while it runs: on hpo's MLP space, as `builtin_judged`; with a model of
    its own, sizes on the range of `history`'s trials (which leaves the front unchanged:
    placing sizes on a log scale keeps their order)."""
    if task.searches_mlp:
        return builtin_judged(task)
    return JudgedTask(
        name=task.name,
        minimise=task.minimise,
        regression=not task.scorer.counts,
        score_name=task.score_name,
        size_range=observed_range([history]),
        objective=task.objective,
    )


def judged_tasks(cells: Sequence[CellResult]) -> dict[str, JudgedTask]:
    """Each task of `cells`, judged: a built-in task by its Task (`builtin_judged`); any other
    by its first record's `task_info`, with `size_range` the smallest and largest model
    built by any trial of any of its records in `cells` (its own search space is not
    known here, only the models built: the range is that observed, so it widens as
    records are added, and hypervolumes compare only within one results set)."""
    out: dict[str, JudgedTask] = {}
    for name in dict.fromkeys(c.task for c in cells):
        if name in TASKS:
            out[name] = builtin_judged(TASKS[name])
            continue
        mine = [c for c in cells if c.task == name]
        info = mine[0].task_info
        if info is None:
            raise HpoError(f"records of task {name} do not say how to judge it (no task_info)")
        out[name] = JudgedTask(
            name=name,
            minimise=info.minimise,
            regression=not info.counts,
            score_name=info.score,
            size_range=observed_range(c.history for c in mine),
            objective=info.objective,
        )
    return out


OBSERVED_SIZES_TEXT = (
    "This task builds models of its own: sizes are placed between the smallest and the"
    " largest model its trials built in these records, so its hypervolumes compare the tuners"
    " of these results only."
)


def sizes_observed(name: str) -> bool:
    """Whether task `name`'s sizes are placed on the range observed in its records (a task of
    the user's own), not on hpo's MLP space (`judged_tasks`)."""
    return name not in TASKS


def suite_order(names: Iterable[str]) -> list[str]:
    """Task names in the suite's order: built-in tasks in `TASKS` order, then others by name."""
    order = list(TASKS)
    return sorted(set(names), key=lambda t: (0, order.index(t), "") if t in TASKS else (1, 0, t))
