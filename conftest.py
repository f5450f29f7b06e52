"""Options shared by tests/ and benchmarks/ (pytest reads them only from the root conftest)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_addoption(parser):
    group = parser.getgroup("hpo", "hpo tuner benchmarks")
    group.addoption(
        "--hpo-tuners",
        default="hyperband,bayesian,random",
        help="comma-separated tuners to benchmark (default: all three)",
    )
    group.addoption(
        "--hpo-seeds",
        default="0-9",
        help="seeds, e.g. 0-9 or 0,3,7 (default: 0-9, ten paired seeds)",
    )
    group.addoption(
        "--hpo-profile",
        default="paper",
        help="budget profile: paper, quick or smoke (default: paper)",
    )
    group.addoption(
        "--hpo-force",
        action="store_true",
        help="run every cell anew, even one whose record a previous session saved",
    )
    group.addoption(
        "--hpo-peer",
        action="store_true",
        help="also run benchmarks/test_peer.py: hpo beside a plain Keras Tuner script",
    )
    group.addoption(
        "--hpo-min-speedup",
        default=None,
        help="peer comparison: fail if hpo is not at least this many times faster",
    )
    group.addoption(
        "--hpo-max-rss-mb",
        default=None,
        help="peer comparison: fail if hpo's peak resident memory exceeds this (MiB)",
    )
