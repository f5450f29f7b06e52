"""Everything hpo's pytest plugin touches inside pytest-benchmark that is not public API.

pytest-benchmark keeps its session on `config._benchmarksession` and switches
itself off under pytest-xdist. The plugin needs three things it offers no hook
for: the session, writing its JSON to a path chosen after configuration, and
staying on in an xdist worker. tests/test_plugin.py fails loudly if an upgrade
moves any of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def session(config: pytest.Config) -> Any:
    """pytest-benchmark's BenchmarkSession, or None if the plugin is not active."""
    return getattr(config, "_benchmarksession", None)


def write_json_to(config: pytest.Config, path: Path) -> None:
    """Make the session write its JSON to `path` (what --benchmark-json PATH does)."""
    bench = session(config)
    if bench is not None:
        bench.json = path


def json_path(config: pytest.Config) -> Path | None:
    bench = session(config)
    return None if bench is None or bench.json is None else Path(bench.json)


def keep_on_under_xdist(config: pytest.Config) -> None:
    """Time benchmarks in this xdist worker too (pytest-benchmark turns itself off there).

    A cell is minutes of work timed once; parallel timings are compared only with
    runs made the same way (docs/usage.md says so).
    """
    bench = session(config)
    if bench is not None:
        bench.disabled = False
        bench.xdist_warning = False
