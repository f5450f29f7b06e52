"""hpo's pytest plugin: tuner x seed cells as pytest-benchmark benchmarks, merged and reported.

Registered under the `pytest11` entry point, so `pip install` is all it needs.
It adds `--hpo-*` options and `hpo_*` fixtures and stays inert otherwise: it
parametrizes only tests that ask for `hpo_tuner` / `hpo_seed`, and its session
work (the benchmark JSON's default path, calibration, merging xdist parts, the
report) happens only in a session that collected such tests.

This module holds the hooks and fixtures only, each a few lines; the state and
the work are the session's (`hpo.plugin.session.HpoSession`, registered with
pytest when the session is configured), and the options shared with the `hpo`
command are declared once, in hpo.options.

Cells can run in parallel with pytest-xdist (`one_worker_per_core` is what this
repository's own conftest files call). pytest-benchmark switches itself off
under xdist because timings of parallel runs disturb each other; a cell is
minutes of work timed once, so here each worker keeps it on and writes its own
JSON part, and the controller merges the parts into the one file a sequential
run would write. Every timing in a parallel run was measured beside another
cell: compare runs made the same way.
"""

from __future__ import annotations

from typing import Any

import pytest

from hpo.experiment.profiles import DEFAULT_TASK
from hpo.experiment.tasks import TASKS
from hpo.options import (
    add_cell_options,
    add_report_options,
    add_run_options,
    add_tracking_options,
)
from hpo.plugin.session import (
    SESSION_NAME,
    HpoSession,
    Selection,
    hpo_session,
    one_worker_per_core,
)

__all__ = ["HpoSession", "Selection", "hpo_session", "one_worker_per_core", "selection"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hpo", "hpo tuner benchmarks")
    group.addoption(
        "--hpo-tuners",
        default="hyperband,bayesian,random",
        help="comma-separated tuners: built-in names, installed ones, MODULE:ATTR, or all"
        " (default: hyperband,bayesian,random)",
    )
    group.addoption("--hpo-seeds", default="0-9", help="seeds, e.g. 0-9 or 0,3,7 (default: 0-9)")
    group.addoption(
        "--hpo-tasks",
        default=DEFAULT_TASK,
        help=f"comma-separated tasks: {', '.join(TASKS)}, installed ones, MODULE:ATTR, or all"
        f" (every built-in task; default: {DEFAULT_TASK}, the seed report's)",
    )
    add_cell_options(group.addoption, prefix="hpo-")
    add_run_options(group.addoption, prefix="hpo-")
    add_tracking_options(group.addoption, prefix="hpo-")
    add_report_options(group.addoption, prefix="hpo-")
    group.addoption(
        "--hpo-replay",
        metavar="TABLE",
        default=None,
        help="replay every cell against a table of real trainings (hpo tabulate) instead of"
        " training: its task is the table's, its profile too unless --hpo-profile names one of"
        " fewer epochs; records say replayed from TABLE",
    )
    group.addoption(
        "--hpo-verbose",
        action="store_true",
        help="a line per finished trial of every cell (also with -v)",
    )
    group.addoption(
        "--hpo-peer",
        action="store_true",
        help="also run the tests marked hpo_peer: hpo beside a plain Keras Tuner script",
    )
    group.addoption(
        "--hpo-min-speedup",
        default=None,
        help="peer comparison: fail if hpo's whole process is not at least this many times"
        " faster than the plain script's",
    )
    group.addoption(
        "--hpo-min-search-speedup",
        default=None,
        help="peer comparison: the same for the searches alone (start-up and import excluded)",
    )
    group.addoption(
        "--hpo-max-rss-mb",
        default=None,
        help="peer comparison: fail if hpo's peak resident memory exceeds this (MiB)",
    )


def selection(config: pytest.Config) -> Selection:
    """Tuners, seeds, profile and tasks asked for (checked when the session is configured)."""
    return hpo_session(config).selection


# ---------------------------------------------------------------- hooks: thin, the session works


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hpo_peer: hpo beside a plain Keras Tuner script (runs only with --hpo-peer)"
    )
    hpo = HpoSession(config)  # bad options end the session here, in one line
    config.pluginmanager.register(hpo, SESSION_NAME)
    hpo.start()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    hpo_session(metafunc.config).parametrize(metafunc)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    hpo_session(config).collected(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    hpo_session(session.config).submit_to_cluster(session)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    hpo_session(node.config).worker_done(node.gateway.id)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    hpo_session(session.config).merge_parts()


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    hpo_session(config).update_machine_info(machine_info)


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(config: pytest.Config, output_json: dict) -> None:
    hpo_session(config).update_json(output_json)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    hpo_session(config).summarize(terminalreporter)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def hpo_profile(pytestconfig: pytest.Config) -> str:
    return selection(pytestconfig).profile


@pytest.fixture(scope="session")
def hpo_engine(pytestconfig: pytest.Config) -> str:
    """What trains the trials: "graph" or "keras" (--hpo-engine)."""
    return hpo_session(pytestconfig).engine


@pytest.fixture(scope="session")
def hpo_records(pytestconfig: pytest.Config) -> list:
    """Every cell record of this session, in run order."""
    return hpo_session(pytestconfig).records


@pytest.fixture(scope="session")
def hpo_references(pytestconfig: pytest.Config) -> list:
    """Per-seed scores of the untuned reference models (hpo.run.references) in this session."""
    return hpo_session(pytestconfig).references


@pytest.fixture(scope="session")
def hpo_stopped(pytestconfig: pytest.Config) -> list:
    """Cells of this session that stopped without a record (tuner, seed, profile, reason)."""
    return hpo_session(pytestconfig).stopped


@pytest.fixture
def hpo_cell(pytestconfig: pytest.Config, benchmark: Any, request: pytest.FixtureRequest) -> Any:
    """`hpo_cell(tuner, seed, task) -> record`: runs the cell where the session runs cells
    (fresh processes, --hpo-cluster or --hpo-replay), times it with pytest-benchmark and
    records it (`hpo.plugin.fixture.CellFixture`); the test checks what it returns."""
    from hpo.plugin.fixture import CellFixture

    return CellFixture(hpo_session(pytestconfig), benchmark, request.node)


@pytest.fixture(scope="session")
def hpo_threads(pytestconfig: pytest.Config) -> int | None:
    """TensorFlow threads for each cell: this worker's share of the cores (None: default)."""
    return hpo_session(pytestconfig).threads


@pytest.fixture(scope="session")
def hpo_calibration(pytestconfig: pytest.Config) -> float:
    """This session's machine-speed yardstick (seconds of a fixed Keras fit), measured once."""
    return hpo_session(pytestconfig).calibration_s
