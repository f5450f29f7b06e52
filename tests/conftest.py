"""Hypothesis settings for a shared, noisy machine; the suite spread over the cores."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("hpo", deadline=None, print_blob=True)
settings.load_profile("hpo")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """One pytest-xdist worker per core unless -n was given (-n 0: one process).

    Most of the suite's time is real smoke searches and the processes they
    start; nothing in it is timed, so running two at once changes no result.
    """
    if (
        config.pluginmanager.hasplugin("xdist")
        and config.option.numprocesses is None
        and "PYTEST_XDIST_WORKER" not in os.environ
        and not config.option.collectonly
    ):
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        config.option.numprocesses = cores or 1
        if config.option.dist == "no":
            config.option.dist = "worksteal"
