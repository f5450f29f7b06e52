"""hpo's pytest plugin: tuner x seed cells as pytest-benchmark benchmarks, merged and reported.

Registered under the `pytest11` entry point, so `pip install` is all it needs.
It adds `--hpo-*` options and `hpo_*` fixtures and stays inert otherwise: it
parametrizes only tests that ask for `hpo_tuner` / `hpo_seed`, and its session
work (the benchmark JSON's default path, calibration, merging xdist parts, the
report) happens only in a session that collected such tests.

Cells can run in parallel with pytest-xdist (`one_worker_per_core` is what this
repository's own conftest files call). pytest-benchmark switches itself off
under xdist because timings of parallel runs disturb each other; a cell is
minutes of work timed once, so here each worker keeps it on and writes its own
JSON part, and the controller merges the parts into the one file a sequential
run would write. Every timing in a parallel run was measured beside another
cell: compare runs made the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from hpo.errors import HpoError
from hpo.plugin import adapter

EXIT_BAD_INPUT = 2
RESULTS_DIR = Path("results")
PARAMETRIZED = ("hpo_tuner", "hpo_seed", "hpo_task")
_active = pytest.StashKey[bool]()
_records = pytest.StashKey[list]()
_references = pytest.StashKey[list]()
_stopped = pytest.StashKey[list]()
_parts = pytest.StashKey[list]()
_threads = pytest.StashKey[int]()
_calibration = pytest.StashKey[float]()
_cluster = pytest.StashKey[Any]()
_provenance = pytest.StashKey[list]()


class Selection(NamedTuple):
    """What the session's options select: the cells are tuners x seeds x tasks."""

    tuners: list[str]
    seeds: list[int]
    profile: str
    tasks: list[str]


_selection = pytest.StashKey[Selection]()


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
        default="breast_cancer",
        help="comma-separated tasks: breast_cancer, wine, digits, diabetes, synthetic, or all"
        " (default: breast_cancer, the seed report's)",
    )
    group.addoption(
        "--hpo-cluster",
        default=None,
        metavar="ADDRESS",
        help="run the cells on a Dask cluster: its scheduler's address (tcp://HOST:8786), or"
        " local:N to start one here with N workers (default: local processes, one per core)",
    )
    group.addoption(
        "--hpo-profile",
        default="paper",
        help="budget profile: paper, quick or smoke (default: paper)",
    )
    group.addoption(
        "--hpo-engine",
        default="graph",
        help="what trains the trials: graph (one traced graph for every model) or keras"
        " (Keras' fit per model, to cross-check); default: graph",
    )
    group.addoption(
        "--hpo-force",
        action="store_true",
        help="run every cell anew, even one whose record a previous session saved",
    )
    group.addoption(
        "--hpo-tensorboard",
        metavar="DIR",
        default=None,
        help="also write each trial of each cell run to DIR for TensorBoard's HParams dashboard",
    )
    group.addoption(
        "--hpo-mlflow",
        metavar="URI",
        default=None,
        help="also log each cell run to MLflow at URI (e.g. sqlite:///mlflow.db)",
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


# ---------------------------------------------------------------- options


def _bad_input(message: str) -> None:
    pytest.exit(f"hpo: error: {message}", returncode=EXIT_BAD_INPUT)


def selection(config: pytest.Config) -> Selection:
    """Tuners, seeds, profile and tasks asked for (checked when the session is configured)."""
    if _selection not in config.stash:
        config.stash[_selection] = _parse_selection(config)
    return config.stash[_selection]


def _parse_selection(config: pytest.Config) -> Selection:
    """Bad values end the session in one line (exit 2), before pytest prints anything."""
    from hpo.experiment.profiles import check_engine, get_profile, parse_seeds
    from hpo.experiment.tasks import parse_tasks
    from hpo.tuners import parse_tuners

    try:
        check_engine(config.getoption("hpo_engine"))
        return Selection(
            parse_tuners(config.getoption("hpo_tuners")),
            parse_seeds(config.getoption("hpo_seeds")),
            get_profile(config.getoption("hpo_profile")).name,
            parse_tasks(config.getoption("hpo_tasks")),
        )
    except HpoError as e:
        _bad_input(str(e))
        raise  # pytest.exit raised already


def _check_limits(config: pytest.Config) -> None:
    for name in ("hpo_min_speedup", "hpo_min_search_speedup", "hpo_max_rss_mb"):
        text = config.getoption(name)
        if text is None:
            continue
        from hpo.experiment.profiles import positive_number

        try:
            value = positive_number(text, "--" + name.replace("_", "-"))
        except HpoError as e:
            _bad_input(str(e))
        setattr(config.option, name, value)


def _open_cluster(config: pytest.Config) -> None:
    """Connect to the --hpo-cluster (or start it) before any cell: a bad address, a
    cluster without workers or with other versions ends the session in one line."""
    text = config.getoption("hpo_cluster")
    if text is None or _worker_id() is not None or config.option.collectonly:
        return
    from hpo.parallel.cluster import Cluster, parse_cluster

    try:
        address = parse_cluster(text)
        if _uses_cells(config):
            config.stash[_cluster] = Cluster(address)
    except HpoError as e:
        _bad_input(str(e))


def pytest_unconfigure(config: pytest.Config) -> None:
    cluster = config.stash.get(_cluster, None)
    if cluster is not None:
        cluster.close()


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _worker_id() -> str | None:
    return os.environ.get("PYTEST_XDIST_WORKER")


def one_worker_per_core(config: pytest.Config, serial: bool = False) -> None:
    """Run on one pytest-xdist worker per core unless -n was given (`serial`: one process).

    For a conftest's `pytest_cmdline_main`; a no-op without xdist, inside a
    worker, and for --collect-only.
    """
    if (
        config.pluginmanager.hasplugin("xdist")
        and config.option.numprocesses is None
        and _worker_id() is None
        and not config.option.collectonly
    ):
        config.option.numprocesses = 0 if serial else _cores()
        if config.option.dist == "no":
            config.option.dist = "worksteal"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hpo_peer: hpo beside a plain Keras Tuner script (runs only with --hpo-peer)"
    )
    selection(config)  # the options' own values: cheap, and bad ones stop here
    _check_limits(config)
    _open_cluster(config)
    for key in (_records, _references, _stopped):
        config.stash[key] = []
    config.stash[_active] = False
    if _uses_cells(config):
        if _worker_id() is None:
            config.pluginmanager.register(_SessionProgress(config), "hpo-session-progress")
        else:  # before collection imports TensorFlow through the test modules
            from hpo.run.runtime import import_tensorflow_quietly

            import_tensorflow_quietly()


_CELL_TEST = re.compile(r"(?m)^def test_\w*\([^)]*\bhpo_tuner\b")  # a test asking for cells


def _uses_cells(config: pytest.Config) -> bool:
    """Whether this session runs cells: its test files ask for the hpo_tuner fixture.

    Decided before collection (the controller of an xdist run never collects), from
    the test files named on the command line or under the current folder.
    """
    paths = [Path(a.split("::")[0]) for a in config.args] or [Path.cwd()]
    files = [p for a in paths for p in ([a] if a.is_file() else a.rglob("test_*.py"))]
    return any(_CELL_TEST.search(f.read_text(encoding="utf-8", errors="ignore")) for f in files)


def target_json(config: pytest.Config) -> Path:
    """The session's benchmark JSON: --benchmark-json, else results/benchmarks-PROFILE.json."""
    given = config.getoption("benchmark_json", None)
    if given is not None:
        return Path(given)
    return RESULTS_DIR / f"benchmarks-{selection(config).profile}.json"


def _part_path(json_path: Path, worker: str) -> Path:
    return json_path.with_name(f".{json_path.name}.{worker}.part")


# ---------------------------------------------------------------- collection


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not any(name in metafunc.fixturenames for name in PARAMETRIZED):
        return
    chosen = selection(metafunc.config)
    if "hpo_task" in metafunc.fixturenames:
        metafunc.parametrize("hpo_task", chosen.tasks)
    if "hpo_tuner" in metafunc.fixturenames:
        metafunc.parametrize("hpo_tuner", chosen.tuners)
    if "hpo_seed" in metafunc.fixturenames:
        metafunc.parametrize("hpo_seed", chosen.seeds)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect hpo_peer tests without --hpo-peer; switch the session's hpo work on if used."""
    if not config.getoption("hpo_peer"):
        peer = [item for item in items if item.get_closest_marker("hpo_peer")]
        if peer:
            config.hook.pytest_deselected(items=peer)
            items[:] = [item for item in items if not item.get_closest_marker("hpo_peer")]
    if not any(getattr(item, "fixturenames", ()) and _uses_hpo(item) for item in items):
        return
    config.stash[_active] = True
    target = target_json(config)
    worker = _worker_id()
    if worker is not None:
        from hpo.run.runtime import die_with_parent, import_tensorflow_quietly, set_threads

        import_tensorflow_quietly()
        die_with_parent()  # a killed session leaves no worker searching behind it
        # Share the cores among the workers: TensorFlow's pools default to all of them.
        workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        config.stash[_threads] = max(1, _cores() // workers)
        set_threads(config.stash[_threads])
        adapter.keep_on_under_xdist(config)
        adapter.write_json_to(config, _part_path(target, worker))
    else:
        adapter.write_json_to(config, target)
    target.parent.mkdir(parents=True, exist_ok=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    """On a cluster: send every cell this session will ask for, so they run in parallel
    while the tests wait for them one by one."""
    cluster = session.config.stash.get(_cluster, None)
    if cluster is None:
        return
    from hpo.experiment.profiles import DEFAULT_TASK
    from hpo.run.cell import Cell
    from hpo.run.store import RunOptions

    profile = selection(session.config).profile
    engine = session.config.getoption("hpo_engine")
    cells_dir = cells_dir_of(session.config)
    cells = []
    for item in session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "hpo_run_cell" in getattr(item, "fixturenames", ()) and "hpo_tuner" in params:
            cells.append(
                Cell.of(
                    params["hpo_tuner"],
                    params["hpo_seed"],
                    profile,
                    params.get("hpo_task", DEFAULT_TASK),
                    engine,
                )
            )
    cells_dir.mkdir(parents=True, exist_ok=True)
    cluster.submit(
        [(c, cells_dir / f"{c.name}.json") for c in dict.fromkeys(cells)],
        RunOptions(
            force=session.config.getoption("hpo_force"), calibration_s=calibration_s(session.config)
        ),
    )


def _uses_hpo(item: pytest.Item) -> bool:
    return any(name.startswith("hpo_") for name in item.fixturenames)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- merge and report


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """On the controller: remember each worker's JSON part."""
    node.config.stash.setdefault(_parts, []).append(
        _part_path(target_json(node.config), node.gateway.id)
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """On the controller of a parallel run: merge the workers' parts into one JSON."""
    parts = [p for p in session.config.stash.get(_parts, []) if p.exists()]
    if not parts:
        return
    from hpo.experiment.results import load_results, write_text

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
    target = target_json(session.config)
    write_text(target, json.dumps(merged, indent=4))
    for p in parts:
        p.unlink()
    session.config.stash[_active] = True
    try:
        results = load_results([target])
    except HpoError:  # e.g. only references ran
        return
    session.config.stash[_records] = results.cells
    session.config.stash[_references] = results.references
    session.config.stash[_stopped] = results.stopped
    session.config.stash[_provenance] = results.provenance


class _SessionProgress:
    """On the controller: a line per finished cell with the session's progress and ETA, and
    on a terminal (unless -v) live lines: the session, then each running cell.

    Workers cannot print through pytest-xdist, so each cell's test report carries its line
    and epochs; running cells keep a status file (hpo.run.progress.status_writer).
    """

    def __init__(self, config: pytest.Config) -> None:
        from hpo.run.progress import SessionState

        self.config = config
        chosen = selection(config)
        self.state = SessionState(
            cells_total=len(chosen.tuners) * len(chosen.seeds) * len(chosen.tasks),
            started=time.monotonic(),
        )
        self.display: Any = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if sys.stderr.isatty() and not verbose(self.config):
            from hpo.run.progress import SessionDisplay

            self.display = SessionDisplay(self.state, status_dir(self.config))
            self.display.start()
        threading.Thread(target=self._plan, daemon=True).start()

    def _plan(self) -> None:
        """Planned epochs of all selected cells (Hyperband's plan is a dry run: seconds)."""
        from hpo.experiment.profiles import get_profile
        from hpo.tuners import planned_budget

        # No fd-2 redirect here (hpo.run.runtime.import_tensorflow_quietly): this thread runs
        # while pytest-xdist starts its workers, which would inherit /dev/null as stderr.
        chosen = selection(self.config)
        with contextlib.suppress(Exception):  # no total: the line shows cells and time only
            self.state.epochs_total = (
                len(chosen.seeds)
                * len(chosen.tasks)
                * sum(planned_budget(t, get_profile(chosen.profile)).epochs for t in chosen.tuners)
            )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if report.when != "call" or terminal is None:
            return
        props: dict[str, Any] = dict(report.user_properties)
        if "hpo_cell_line" not in props:
            return
        self.state.finish(
            int(props.get("hpo_cell_epochs", 0)), props.get("hpo_cell_how") == "reused"
        )
        terminal.write_line(f"[{self.state.line()}] {props['hpo_cell_line']}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.display is not None:
            self.display.stop()


def verbose(config: pytest.Config) -> bool:
    """Trial-by-trial lines: with -v or --hpo-verbose."""
    return bool(config.getoption("hpo_verbose") or config.option.verbose > 0)


def status_dir(config: pytest.Config) -> Path:
    json_path = target_json(config)
    return json_path.with_name(f"{json_path.stem}-cells") / ".running"


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    if not config.stash.get(_active, False):
        return
    from hpo.run.provenance import versions

    machine_info["hpo"] = {**versions(), "calibration_s": calibration_s(config)}
    cluster = config.stash.get(_cluster, None)
    if cluster is not None:
        machine_info["hpo"]["cluster"] = cluster.describe()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    records = config.stash.get(_records, [])
    if not records:
        return
    from hpo.analysis.report import conclusions, main_table, tuner_table, write_report
    from hpo.experiment.results import Results

    terminalreporter.write_sep("=", "hpo: per-tuner means")
    terminalreporter.write_line(tuner_table(records))
    json_path = target_json(config)
    out = json_path.with_name(f"{json_path.stem}-report")
    try:
        results = Results(
            records,
            config.stash[_references],
            config.stash[_stopped],
            config.stash.get(_provenance, []) or [_this_session(config, json_path)],
        )
        summary = write_report(results, out)
    except HpoError as e:
        terminalreporter.write_line(f"hpo: no report: {e}", red=True)
        return
    terminalreporter.write_sep("=", "hpo: report")
    terminalreporter.write_line(main_table(summary))
    terminalreporter.write_line("")
    for line in conclusions(summary):
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"full report: {out / 'report.md'}")


def _this_session(config: pytest.Config, json_path: Path) -> dict[str, Any]:
    """The report's provenance of a session run in one process (a parallel session's
    comes from the merged JSON): when, and where its cells ran."""
    from datetime import UTC, datetime

    cluster = config.stash.get(_cluster, None)
    entry: dict[str, Any] = {
        "source": str(json_path),
        "datetime": datetime.now(UTC).isoformat(timespec="seconds"),
        "xdist_workers": 1,
    }
    if cluster is not None:
        entry["cluster"] = cluster.describe()
    return entry


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def hpo_profile(pytestconfig: pytest.Config) -> str:
    return selection(pytestconfig).profile


@pytest.fixture(scope="session")
def hpo_engine(pytestconfig: pytest.Config) -> str:
    """What trains the trials: "graph" or "keras" (--hpo-engine)."""
    return pytestconfig.getoption("hpo_engine")


@pytest.fixture(scope="session")
def hpo_records(pytestconfig: pytest.Config) -> list:
    """Every cell record of this session, in run order."""
    return pytestconfig.stash[_records]


@pytest.fixture(scope="session")
def hpo_references(pytestconfig: pytest.Config) -> list:
    """Per-seed scores of the untuned reference models (hpo.run.references) in this session."""
    return pytestconfig.stash[_references]


@pytest.fixture(scope="session")
def hpo_stopped(pytestconfig: pytest.Config) -> list:
    """Cells of this session that stopped without a record (tuner, seed, profile, reason)."""
    return pytestconfig.stash[_stopped]


@pytest.fixture
def hpo_uncaptured(pytestconfig: pytest.Config) -> Callable[[], contextlib.AbstractContextManager]:
    """A context in which output reaches the terminal past pytest's capture.

    A cell's child process started inside it inherits the real stderr, so its
    per-trial progress lines show while the search runs (searches take minutes).
    """
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    @contextlib.contextmanager
    def context() -> Iterator[None]:
        with capture.global_and_fixture_disabled():
            sys.stderr.write("\n")  # off the line where pytest prints the test's file name
            sys.stderr.flush()
            yield

    return context


def cells_dir_of(config: pytest.Config) -> Path:
    json_path = target_json(config)
    return json_path.with_name(f"{json_path.stem}-cells")


@pytest.fixture(scope="session")
def hpo_cells_dir(pytestconfig: pytest.Config) -> Path:
    """Where each finished cell's record is saved: beside the benchmark JSON, one per cell."""
    return cells_dir_of(pytestconfig)


@pytest.fixture(scope="session")
def hpo_run_cell(pytestconfig: pytest.Config) -> Callable[..., Any]:
    """`run(cell, record_path, options, threads, reporting) -> (record, Outcome)`: the cell in
    a fresh local process (`hpo.parallel.isolation`), or its task on --hpo-cluster."""
    from hpo.parallel.isolation import run_cell_isolated

    cluster = pytestconfig.stash.get(_cluster, None)
    if cluster is None:
        return run_cell_isolated

    def on_cluster(cell: Any, record_path: Path, options: Any, *args: Any, **kwargs: Any) -> Any:
        from hpo.parallel.cluster import ClusterLost

        try:
            return cluster.result(cell, Path(record_path), options)
        except ClusterLost as e:
            done = sorted(p.name for p in Path(record_path).parent.glob("*.json"))
            pytest.exit(
                f"hpo: error: {e}; {len(done)} cell record(s) are in {Path(record_path).parent}:"
                " run the same command again to reuse them and resume the rest",
                returncode=1,
            )

    return on_cluster


@pytest.fixture(scope="session")
def hpo_track(pytestconfig: pytest.Config) -> Callable[[Any], None]:
    """Log a finished cell record to TensorBoard and/or MLflow, as the options ask."""
    tensorboard = pytestconfig.getoption("hpo_tensorboard")
    mlflow_uri = pytestconfig.getoption("hpo_mlflow")

    def track(record: Any) -> None:
        if tensorboard:
            from hpo.run.tracking import log_tensorboard

            log_tensorboard(record, tensorboard)
        if mlflow_uri:
            from hpo.run.tracking import log_mlflow

            log_mlflow(record, mlflow_uri)

    return track


@pytest.fixture(scope="session")
def hpo_reporting(pytestconfig: pytest.Config) -> Callable[[Any], Any]:
    """`reporting(cell)`: how a cell's process shows progress in this session."""
    from hpo.parallel.isolation import Reporting

    folder = status_dir(pytestconfig)

    def reporting(cell: Any) -> Reporting:
        folder.mkdir(parents=True, exist_ok=True)
        return Reporting(verbose(pytestconfig), str(folder / f"{cell.name}.json"))

    return reporting


@pytest.fixture(scope="session")
def hpo_threads(pytestconfig: pytest.Config) -> int | None:
    """TensorFlow threads for each cell: this worker's share of the cores (None: default)."""
    return pytestconfig.stash.get(_threads, None)


def calibration_s(config: pytest.Config) -> float:
    """This session's machine-speed yardstick, measured once, before the first search."""
    if _calibration not in config.stash:
        from hpo.run.calibration import calibrate

        config.stash[_calibration] = calibrate()
    return config.stash[_calibration]


@pytest.fixture(scope="session")
def hpo_calibration(pytestconfig: pytest.Config) -> float:
    return calibration_s(pytestconfig)
