"""Hypothesis settings for a shared, noisy machine; the suite spread over the cores."""

from __future__ import annotations

import pytest
from hypothesis import settings

from hpo.plugin import one_worker_per_core

settings.register_profile("hpo", deadline=None, print_blob=True)
settings.load_profile("hpo")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Most of the suite's time is real smoke searches and the processes they start;
    nothing in it is timed, so running two at once changes no result."""
    one_worker_per_core(config)
