"""Where a comparison's results came from, when some were replayed (hpo.replay), in words.

The report, the suite's report and the pytest summary all say it the same way:
"replayed from TABLE (real trainings; ...)", with what the verdict is conditional on: a
table holds one train/validation split and a few training seeds, so many replayed seeds vary
the tuners' randomness, not the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hpo.experiment.results import CellResult


def replayed_from(cells: Sequence[CellResult]) -> dict[str, Any] | None:
    """The tables the cells were replayed from (hpo.replay) and how many were, or None."""
    replays = [c.replay for c in cells if c.replay is not None]
    if not replays:
        return None
    tables = sorted({r.table for r in replays})
    return {"tables": tables, "cells": len(replays), "of": len(cells)}


def replayed_words(replayed: Mapping[str, Any] | None) -> str | None:
    """'replayed from TABLE (real trainings)', as the report and the pytest summary say it."""
    if not replayed:
        return None
    share = "" if replayed["cells"] == replayed["of"] else f" ({replayed['cells']} of"
    share += "" if not share else f" {replayed['of']} cells)"
    return (
        f"replayed from {', '.join(replayed['tables'])} (real trainings; results hold for each"
        f" table's one split and training seeds){share}"
    )
