"""A table of made-up curves in the file format (no training), for tests of what reads
tables: replays, their workers, reports of replayed cells. Its numbers are invented: use it
only where a test knows the answer, never as a measurement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

SPLIT = {"train": 364, "val": 91, "test": 114}  # Breast Cancer's, as its records say


def made_up_table(
    path: str | Path,
    grid: Any = None,
    seeds: tuple[int, ...] = (5, 6),
    epochs: int = 3,
    diverge: float | None = None,
    task: str = "breast_cancer",
    profile: str = "smoke",
) -> Any:
    """Write and load a table of `grid` (default: hpo's default MLP grid) whose curves are
    drawn at random (NumPy seed 0): accuracies as counts of correct rows, epochs of 10 to
    20 ms. `diverge`: rows of that learning rate diverge at their second epoch (NaN loss)."""
    from hpo.tables.grid import GRID
    from hpo.tables.table import FORMAT, FORMAT_VERSION, METRICS, Table, write_table

    grid = GRID if grid is None else grid
    rng = np.random.default_rng(0)
    shape = (len(grid), len(seeds), epochs)
    arrays: dict[str, np.ndarray] = {
        name: rng.uniform(0.05, 1.0, shape).astype(np.float32) for name in METRICS
    }
    arrays["val_accuracy"] = (rng.integers(45, 92, shape) / 91).astype(np.float32)
    arrays["test_score"] = (rng.integers(57, 115, shape) / 114).astype(np.float32)
    arrays["epoch_time_s"] = rng.uniform(0.01, 0.02, shape).astype(np.float32)
    arrays["params"] = np.arange(1, len(grid) + 1, dtype=np.int64) * 100
    arrays["seeds"] = np.array(seeds, dtype=np.int64)
    failed = np.full(shape[:2], -1, dtype=np.int64)
    if diverge is not None:
        for i, config in enumerate(grid.configs()):
            if config["learning_rate"] == diverge:
                failed[i] = 1
                for name in METRICS:
                    arrays[name][i, :, 1:] = np.nan
    arrays["failed_at_epoch"] = failed
    arrays["trained"] = np.ones(shape[:2], dtype=bool)
    arrays["build_time_s"] = np.full(shape[:2], 0.04, dtype=np.float32)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "task": task,
        "profile": profile,
        "epochs": epochs,
        "objective": "val_accuracy",
        "grid": grid.to_json(),
        "seeds": list(seeds),
        "split_seed": 0,
        "split_sizes": dict(SPLIT),
    }
    write_table(path, arrays, meta)
    return Table.load(path)
