"""What a comparison selects: profiles (budgets), seeds, engines, and a cell's id. No TensorFlow.

The CLI validates its arguments from here in milliseconds, before paying for
the TensorFlow import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hpo.errors import HpoError

MAX_SEED = 2**32 - 1  # scikit-learn's and NumPy's limit for a seed
MAX_SEEDS = 10_000  # in one seed list: more is a typo, not a comparison
_SEED_PART = re.compile(r"(\d+)(?:-(\d+))?", re.ASCII)
DEFAULT_TASK = "breast_cancer"
# How trials are trained: "graph" (hpo.engines.graph: one traced graph serves every model) or
# "keras" (hpo.engines.keras_fit: Keras' own fit, per model). Same science; tests/test_graphfit.py.
ENGINES = ("graph", "keras")
DEFAULT_ENGINE = "graph"


@dataclass(frozen=True)
class Profile:
    """A budget size shared by every tuner; each tuner derives its own settings from it.

    `epochs` is what a full-fidelity trial trains (and Hyperband's max_epochs);
    `max_trials` is how many trials a full-fidelity tuner runs.
    """

    name: str
    epochs: int
    max_trials: int
    description: str


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("paper", epochs=50, max_trials=25, description="the seed report's budgets"),
        Profile("quick", epochs=15, max_trials=10, description="12-18 % of the paper's epochs"),
        Profile("smoke", epochs=3, max_trials=3, description="seconds per cell, for CI"),
    )
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise HpoError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None


def check_seed(seed: object) -> int:
    """Return `seed` if it is an int in [0, 2**32 - 1]; raise HpoError otherwise."""
    import numbers

    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise HpoError(f"seed must be an integer, got {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise HpoError(f"seed must be between 0 and {MAX_SEED}, got {seed}")
    return int(seed)


@dataclass(frozen=True)
class CellId:
    """Which cell a record is of, by names: what records store and files are named by.

    The cell to run, with its tuner, task and profile resolved, is `hpo.run.cell.Cell`.
    """

    tuner: str
    seed: int
    profile: str
    task: str = DEFAULT_TASK
    engine: str = DEFAULT_ENGINE

    @property
    def name(self) -> str:
        """The file stem of its record: TUNER-PROFILE-seedN (TASK- first for other tasks,
        -ENGINE last for the non-default engine)."""
        stem = f"{self.tuner.replace(':', '.')}-{self.profile}-seed{self.seed}"
        task = self.task.replace(":", ".")
        stem = stem if self.task == DEFAULT_TASK else f"{task}-{stem}"
        return stem if self.engine == DEFAULT_ENGINE else f"{stem}-{self.engine}"

    @property
    def label(self) -> str:
        """How progress lines and messages name it: `hyperband seed=0 paper`."""
        task = "" if self.task == DEFAULT_TASK else f" {self.task}"
        engine = "" if self.engine == DEFAULT_ENGINE else f" [{self.engine}]"
        return f"{self.tuner} seed={self.seed} {self.profile}{task}{engine}"


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise HpoError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return engine


def positive_number(text: str, name: str) -> float:
    """`text` as a positive finite number, or HpoError naming the option `name`."""
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise HpoError(f"{name} must be a positive number, got {text!r}")
    return value


def parse_seeds(text: str) -> list[int]:
    """Seeds from text such as "0-9", "0,3,7" or "0-2,5" (ranges inclusive), sorted, unique."""
    seeds: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _SEED_PART.fullmatch(part)
        if match is None:
            raise HpoError(f"bad seed list {text!r}: {part!r} is not N or N-M (N >= 0)")
        start = int(match[1])
        stop = int(match[2]) if match[2] is not None else start
        if stop < start:
            raise HpoError(f"bad seed list {text!r}: {part!r} is not an ascending range")
        if stop > MAX_SEED:
            raise HpoError(f"bad seed list {text!r}: seeds go up to {MAX_SEED}")
        if stop - start + 1 + len(seeds) > MAX_SEEDS:
            raise HpoError(f"bad seed list {text!r}: more than {MAX_SEEDS} seeds")
        seeds.update(range(start, stop + 1))
    if not seeds:
        raise HpoError(f"bad seed list {text!r}: no seeds")
    return sorted(seeds)
