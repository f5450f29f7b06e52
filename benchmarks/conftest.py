"""This repository's benchmark suite runs its cells on one pytest-xdist worker per core.

Everything else (options, parametrisation, fixtures, merging, the report) is
hpo's pytest plugin, `hpo.plugin`, which `pip install` registers.
"""

from __future__ import annotations

import pytest

from hpo.plugin import one_worker_per_core


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    # Side-by-side peer timings must not share the cores with another cell; on a cluster,
    # the cluster's workers run the cells, and one pytest process waits for them.
    one_worker_per_core(
        config, serial=config.option.hpo_peer or config.option.hpo_cluster is not None
    )
