"""What a table build trains: its rows, in which order, in which chunks; and what comes back.

A row is one (configuration, training seed). Row `r` is configuration
`r // n_seeds` with seed number `r % n_seeds`: configuration-major, in the
grid's order (`hpo.tables.grid`), which is also the order `--limit N` cuts.

Rows travel to workers in chunks. Each chunk holds rows of one depth and one
activation only, so a worker process traces each of the graph engine's graphs
(one per depth and activation) once and then reuses it for every later chunk of
that kind. A row's numbers depend on nothing but its configuration, seed, the
split and the code (each row is seeded afresh), so how rows are chunked, and
where and in what order chunks run, never changes the table. No TensorFlow here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpo.tables.grid import Grid
from hpo.tables.table import CURVES

CHUNK_ROWS = 27  # rows per chunk: ~10 s of Breast Cancer paper training, a line of progress each


@dataclass(frozen=True)
class TableSpec:
    """What a table is of: a task, a profile's epochs, seeds, the split's seed and a grid
    (hpo's MLP grid, `Grid`, or a task's own space's, `SpaceGrid`)."""

    task: str
    profile: str
    epochs: int
    seeds: tuple[int, ...]
    split_seed: int = 0
    grid: Any = field(default_factory=Grid)

    @property
    def n_rows(self) -> int:
        return len(self.grid) * len(self.seeds)

    @functools.cached_property
    def configs(self) -> list[dict[str, Any]]:
        return self.grid.configs()

    def row(self, r: int) -> tuple[int, int]:
        """Row `r` as (configuration index, seed index)."""
        return divmod(r, len(self.seeds))

    def identity(self) -> dict[str, Any]:
        """What its numbers depend on, besides the code: a saved row of another is refused."""
        return {
            "task": self.task,
            "profile": self.profile,
            "epochs": self.epochs,
            "seeds": list(self.seeds),
            "split_seed": self.split_seed,
            "grid": self.grid.to_json(),
        }


@dataclass(frozen=True)
class ChunkJob:
    """Rows for one worker to train: (row id, configuration, training seed) each."""

    task: str
    split_seed: int
    epochs: int
    rows: tuple[tuple[int, dict[str, Any], int], ...]


FAILED_TO_TRAIN = -2  # failed_at_epoch of a row that could not be built or trained at all


@dataclass
class RowResult:
    """One trained row: per-epoch curves (float32, NaN after a divergence) and its facts.

    `failed_at_epoch`: -1 none; k >= 0 the epoch whose loss became non-finite;
    `FAILED_TO_TRAIN` a configuration whose model could not be built or trained (its
    `error` says why; all its values are NaN), a failed trial of no epochs live.
    """

    row: int
    params: int
    failed_at_epoch: int
    build_time_s: float
    curves: dict[str, np.ndarray]  # each of CURVES, shape (epochs,)
    error: str | None = None


@dataclass
class ChunkDone:
    """A finished chunk, and what the process that trained it runs (checked by the builder)."""

    rows: list[RowResult]
    facts: dict[str, Any]


def chunks(spec: TableSpec, rows: Iterable[int], size: int = CHUNK_ROWS) -> list[list[int]]:
    """`rows` in chunks of at most `size`, each of one depth and activation.

    Within a kind, rows stay in row order. The kinds' chunks are then
    interleaved in proportion to how many each kind has (chunk i of a kind of
    n goes at (i + 1/2) / n of the way), so that at any time every kind is
    about as far along as the others: the rows done mix small and large
    models in the grid's proportions, and the ETA (rows left at the pace so
    far) holds from start to end instead of ending on the costliest kind.
    """
    kinds: dict[tuple[Any, ...], list[int]] = {}
    for r in sorted(set(rows)):
        kinds.setdefault(spec.grid.group(spec.configs[spec.row(r)[0]]), []).append(r)
    placed: list[tuple[float, int, list[int]]] = []
    for k, (_, rs) in enumerate(sorted(kinds.items(), key=lambda kv: kv[1][0])):
        pieces = [rs[i : i + size] for i in range(0, len(rs), size)]
        placed.extend(((i + 0.5) / len(pieces), k, piece) for i, piece in enumerate(pieces))
    return [piece for _, _, piece in sorted(placed, key=lambda p: (p[0], p[1]))]


def job(spec: TableSpec, rows: list[int]) -> ChunkJob:
    """The chunk of `rows` as a worker's job."""
    return ChunkJob(
        task=spec.task,
        split_seed=spec.split_seed,
        epochs=spec.epochs,
        rows=tuple((r, spec.configs[spec.row(r)[0]], spec.seeds[spec.row(r)[1]]) for r in rows),
    )


def empty_curve(epochs: int) -> np.ndarray:
    return np.full(epochs, np.nan, dtype=np.float32)


def check_curves(result: RowResult, epochs: int) -> None:
    """A row as workers must send it (a programming error otherwise)."""
    assert set(result.curves) == set(CURVES), sorted(result.curves)
    assert all(c.shape == (epochs,) and c.dtype == np.float32 for c in result.curves.values())
