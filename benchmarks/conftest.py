"""Tuner x seed parametrisation, one worker per core, versions in machine_info, the report.

Cells run in parallel with pytest-xdist, one worker process per core unless
`-n` says otherwise (`-n 0` runs them one after another in this process).
pytest-benchmark switches itself off under xdist because timings of parallel
runs disturb each other; a cell is minutes of work timed once, so here each
worker keeps it on and writes its own JSON part, and the controller merges the
parts into the one file a sequential run would write. Every timing in a
parallel run was measured beside another cell: compare runs made the same way.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from pathlib import Path

import pytest

from hpo.cli import EXIT_BAD_INPUT
from hpo.errors import HpoError
from hpo.profiles import get_profile, parse_seeds, parse_tuners

RESULTS_DIR = Path("results")
_records = pytest.StashKey[list]()
_baselines = pytest.StashKey[list]()
_stopped = pytest.StashKey[list]()
_parts = pytest.StashKey[list]()
_threads = pytest.StashKey[int]()


def _selection(config: pytest.Config) -> tuple[list[str], list[int], str]:
    try:
        return (
            parse_tuners(config.getoption("hpo_tuners")),
            parse_seeds(config.getoption("hpo_seeds")),
            get_profile(config.getoption("hpo_profile")).name,
        )
    except HpoError as e:
        pytest.exit(f"hpo: error: {e}", returncode=EXIT_BAD_INPUT)


def _check_limits(config: pytest.Config) -> None:
    """The peer goals, as positive numbers (parsed here: pytest's own errors exit 4)."""
    for name in ("hpo_min_speedup", "hpo_max_rss_mb"):
        text = config.getoption(name)
        if text is None:
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            option = "--" + name.replace("_", "-")
            pytest.exit(
                f"hpo: error: {option} must be a positive number, got {text!r}",
                returncode=EXIT_BAD_INPUT,
            )
        setattr(config.option, name, value)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _worker_id() -> str | None:
    return os.environ.get("PYTEST_XDIST_WORKER")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """One xdist worker per core unless -n was given (none for the peer comparison)."""
    if (
        config.pluginmanager.hasplugin("xdist")
        and config.option.numprocesses is None
        and _worker_id() is None
        and not config.option.collectonly
    ):
        # Side-by-side timings must not share the cores with another cell.
        config.option.numprocesses = 0 if config.option.hpo_peer else _cores()
        if config.option.dist == "no":
            config.option.dist = "worksteal"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    _, _, profile = _selection(config)
    _check_limits(config)
    config.stash[_records] = []
    config.stash[_baselines] = []
    config.stash[_stopped] = []
    # Save the JSON without extra flags (before pytest-benchmark reads the option).
    if config.getoption("benchmark_json", None) is None:
        RESULTS_DIR.mkdir(exist_ok=True)
        config.option.benchmark_json = RESULTS_DIR / f"benchmarks-{profile}.json"
    if _worker_id() is None and config.getoption("dist", "no") != "no":
        config.pluginmanager.register(_CellLines(config), "hpo-cell-lines")
    if _worker_id() is not None:
        from hpo.cell import die_with_parent, set_threads

        die_with_parent()  # a killed session leaves no worker searching behind it
        # Share the cores among the workers: TensorFlow's pools default to all of them.
        workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        config.stash[_threads] = max(1, _cores() // workers)
        set_threads(config.stash[_threads])


def _part_path(json_path: Path, worker: str) -> Path:
    return json_path.with_name(f".{json_path.name}.{worker}.part")


def pytest_sessionstart(session: pytest.Session) -> None:
    """On an xdist worker: keep pytest-benchmark on, writing this worker's part."""
    worker, bench = _worker_id(), getattr(session.config, "_benchmarksession", None)
    if worker is None or bench is None:
        return
    bench.disabled = False
    bench.xdist_warning = False
    bench.json = _part_path(Path(session.config.getoption("benchmark_json")), worker)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """On the controller: remember each worker's JSON part."""
    node.config.stash.setdefault(_parts, []).append(
        _part_path(Path(node.config.getoption("benchmark_json")), node.gateway.id)
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """On the controller of a parallel run: merge the workers' parts into one JSON."""
    parts = [p for p in session.config.stash.get(_parts, []) if p.exists()]
    if not parts:
        return
    from hpo.results import load_results, write_text

    docs = [json.loads(p.read_text(encoding="utf-8")) for p in parts]
    merged = dict(docs[0])
    merged["benchmarks"] = sorted(
        (b for d in docs for b in d["benchmarks"]), key=lambda b: b["fullname"]
    )
    merged["machine_info"] = dict(docs[0]["machine_info"])
    merged["machine_info"]["hpo_workers"] = {
        p.name.rsplit(".", 2)[-2]: d["machine_info"].get("hpo")
        for p, d in zip(parts, docs, strict=True)
    }
    target = Path(session.config.getoption("benchmark_json"))
    write_text(target, json.dumps(merged, indent=4))
    for p in parts:
        p.unlink()
    try:
        results = load_results([target])
    except HpoError:  # e.g. only baselines ran
        return
    session.config.stash[_records] = results.cells
    session.config.stash[_baselines] = results.baselines
    session.config.stash[_stopped] = results.stopped


class _CellLines:
    """On the controller of a parallel run: one line per finished cell (workers cannot print)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if report.when != "call" or terminal is None:
            return
        for key, value in report.user_properties:
            if key == "hpo_cell_line":
                terminal.write_line(value)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The peer comparison (hpo beside a plain script) runs only with --hpo-peer."""
    if config.getoption("hpo_peer"):
        return
    peer = [item for item in items if item.get_closest_marker("peer")]
    if peer:
        config.hook.pytest_deselected(items=peer)
        items[:] = [item for item in items if not item.get_closest_marker("peer")]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    tuners, seeds, _ = _selection(metafunc.config)
    if "tuner" in metafunc.fixturenames:
        metafunc.parametrize("tuner", tuners)
    if "seed" in metafunc.fixturenames:
        metafunc.parametrize("seed", seeds)


@pytest.fixture(scope="session")
def hpo_profile(pytestconfig: pytest.Config) -> str:
    return _selection(pytestconfig)[2]


@pytest.fixture(scope="session")
def hpo_records(pytestconfig: pytest.Config) -> list:
    """Every cell record of this session, in run order."""
    return pytestconfig.stash[_records]


@pytest.fixture(scope="session")
def hpo_baselines(pytestconfig: pytest.Config) -> list:
    """Per-seed baseline scores of this session."""
    return pytestconfig.stash[_baselines]


@pytest.fixture(scope="session")
def hpo_stopped(pytestconfig: pytest.Config) -> list:
    """Cells of this session that stopped without a record (tuner, seed, profile, reason)."""
    return pytestconfig.stash[_stopped]


@pytest.fixture
def uncaptured(pytestconfig: pytest.Config):
    """A context in which output reaches the terminal past pytest's capture.

    A cell's child process started inside it inherits the real stderr, so its
    per-trial progress lines show while the search runs (searches take minutes).
    """
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    @contextlib.contextmanager
    def context():
        with capture.global_and_fixture_disabled():
            sys.stderr.write("\n")  # off the line where pytest prints the test's file name
            sys.stderr.flush()
            yield

    return context


@pytest.fixture(scope="session")
def hpo_cells_dir(pytestconfig: pytest.Config) -> Path:
    """Where each finished cell's record is saved: beside the benchmark JSON, one per cell."""
    json_path = Path(pytestconfig.getoption("benchmark_json"))
    return json_path.with_name(f"{json_path.stem}-cells")


@pytest.fixture(scope="session")
def hpo_threads(pytestconfig: pytest.Config) -> int | None:
    """TensorFlow threads for each cell: this worker's share of the cores (None: default)."""
    return pytestconfig.stash.get(_threads, None)


_calibration = pytest.StashKey[float]()


def calibration_s(config: pytest.Config) -> float:
    """This session's machine-speed yardstick, measured once, before the first search."""
    if _calibration not in config.stash:
        from hpo.calibration import calibrate

        config.stash[_calibration] = calibrate()
    return config.stash[_calibration]


@pytest.fixture(scope="session")
def hpo_calibration(pytestconfig: pytest.Config) -> float:
    return calibration_s(pytestconfig)


def pytest_benchmark_update_machine_info(config, machine_info):
    from hpo.cell import versions

    machine_info["hpo"] = {**versions(), "calibration_s": calibration_s(config)}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    records = config.stash.get(_records, [])
    if not records:
        return
    from hpo.report import main_table, verdict, write_report
    from hpo.results import Results
    from hpo.summary import tuner_table

    terminalreporter.write_sep("=", "hpo: per-tuner means")
    terminalreporter.write_line(tuner_table(records))
    json_path = Path(config.getoption("benchmark_json"))
    out = json_path.with_name(f"{json_path.stem}-report")
    try:
        results = Results(records, config.stash.get(_baselines, []), config.stash.get(_stopped, []))
        summary = write_report(results, out)
    except HpoError as e:
        terminalreporter.write_line(f"hpo: no report: {e}", red=True)
        return
    terminalreporter.write_sep("=", "hpo: report")
    terminalreporter.write_line(main_table(summary))
    terminalreporter.write_line("")
    terminalreporter.write_line(verdict(summary).replace("**", ""))
    terminalreporter.write_line(f"full report: {out / 'report.md'}")
