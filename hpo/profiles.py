"""What a comparison selects: profiles (budgets), tuner names, seeds. No TensorFlow import.

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

# The names of hpo.tuners.TUNERS, in order (checked there at import).
TUNER_NAMES: tuple[str, ...] = ("hyperband", "bayesian", "random")


@dataclass(frozen=True)
class Profile:
    """Search budgets. `epochs` is what a non-Hyperband trial trains."""

    name: str
    hyperband_max_epochs: int
    hyperband_factor: int
    max_trials: int
    num_initial_points: int
    epochs: int
    description: str


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("paper", 50, 3, 25, 5, 50, "the seed report's budgets, exactly"),
        Profile("quick", 15, 3, 10, 3, 15, "12-18 % of the paper's epochs, same design"),
        Profile("smoke", 3, 3, 3, 2, 3, "seconds per cell, to check the machinery (CI)"),
    )
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise HpoError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None


def check_tuner(name: str) -> str:
    if name not in TUNER_NAMES:
        raise HpoError(f"unknown tuner {name!r}; choose one of {', '.join(TUNER_NAMES)}")
    return name


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


def parse_tuners(text: str) -> list[str]:
    """Tuner names from a comma-separated list, each checked against the registry."""
    names = [check_tuner(n.strip()) for n in text.split(",") if n.strip()]
    if not names:
        raise HpoError(f"bad tuner list {text!r}: no tuners")
    return list(dict.fromkeys(names))
