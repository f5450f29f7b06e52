"""Plain-text per-tuner means: the table printed at the end of a benchmark session."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hpo.results import CellResult


def tuner_table(records: Sequence[CellResult]) -> str:
    """One row per tuner: seeds, mean best val acc, mean test acc, mean time, mean epochs."""
    header = (
        f"{'tuner':<10} {'profile':<7} {'seeds':>5} {'best val acc':>12} {'test acc':>9}"
        f" {'time s':>8} {'epochs':>7} {'trials':>7}"
    )
    lines = [header, "-" * len(header)]
    for tuner in dict.fromkeys(r.tuner for r in records):
        rows = [r for r in records if r.tuner == tuner]
        profiles = ",".join(sorted({r.profile for r in rows}))

        def mean(attr: str, rows: Sequence[CellResult] = rows) -> float:
            return float(np.mean([getattr(r, attr) for r in rows]))

        lines.append(
            f"{tuner:<10} {profiles:<7} {len(rows):>5} {mean('best_val_accuracy'):>12.4f}"
            f" {mean('test_accuracy'):>9.4f} {mean('wall_time_s'):>8.1f}"
            f" {mean('epochs_trained'):>7.1f} {mean('trials_completed'):>7.1f}"
        )
    return "\n".join(lines)
