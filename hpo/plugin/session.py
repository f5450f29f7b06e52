"""The plugin's state for one pytest session: `HpoSession`, registered with pytest as a plugin.

As pytest-benchmark keeps its `BenchmarkSession`: created when the session is
configured (bad options end it there, in one line), registered under
`SESSION_NAME`, read by the hooks (hpo.plugin) and the fixtures. It stays
inert in a session that collected no test asking for an `hpo_*` fixture.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

from hpo.errors import EXIT_BAD_INPUT, EXIT_STOPPED, HpoError
from hpo.options import default_report_dir
from hpo.plugin.adapter import keep_on_under_xdist, write_json_to
from hpo.runners import Placement

if TYPE_CHECKING:
    from hpo.experiment.results import CellResult
    from hpo.parallel.cluster import Cluster
    from hpo.parallel.isolation import Reporting
    from hpo.run.store import RunOptions
    from hpo.runners import Runner

SESSION_NAME = "hpo-session"
RESULTS_DIR = Path("results")
PARAMETRIZED = ("hpo_tuner", "hpo_seed", "hpo_task")
# Positive numbers, checked once: the peer comparison's goals and the report's margin.
LIMITS = ("hpo_min_speedup", "hpo_min_search_speedup", "hpo_max_rss_mb", "hpo_smallest_effect")
_CELL_TEST = re.compile(r"(?m)^def test_\w*\([^)]*\bhpo_tuner\b")  # a test asking for cells


class Selection(NamedTuple):
    """What the session's options select: the cells are tuners x seeds x tasks."""

    tuners: list[str]
    seeds: list[int]
    profile: str
    tasks: list[str]


def bad_input(message: str) -> None:
    """End the session with one `hpo: error:` line and exit code 2."""
    pytest.exit(f"hpo: error: {message}", returncode=EXIT_BAD_INPUT)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_id() -> str | None:
    """This pytest-xdist worker's id (gw0, ...), or None in the controller or without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def one_worker_per_core(config: pytest.Config, serial: bool = False) -> None:
    """Run on one pytest-xdist worker per core unless -n was given (`serial`: one process).

    For a conftest's `pytest_cmdline_main`; a no-op without xdist, inside a
    worker, and for --collect-only.
    """
    if (
        config.pluginmanager.hasplugin("xdist")
        and config.option.numprocesses is None
        and worker_id() is None
        and not config.option.collectonly
    ):
        config.option.numprocesses = 0 if serial else cores()
        if config.option.dist == "no":
            config.option.dist = "worksteal"


def uses_cells(config: pytest.Config) -> bool:
    """Whether this session runs cells: its test files ask for the hpo_tuner fixture.

    Decided before collection (the controller of an xdist run never collects), from
    the test files named on the command line or under the current folder.
    """
    paths = [Path(a.split("::")[0]) for a in config.args] or [Path.cwd()]
    files = [p for a in paths for p in ([a] if a.is_file() else a.rglob("test_*.py"))]
    return any(_CELL_TEST.search(f.read_text(encoding="utf-8", errors="ignore")) for f in files)


def _distributes(config: pytest.Config) -> bool:
    """Whether this process hands its tests to pytest-xdist workers instead of running them."""
    return (
        worker_id() is None
        and config.getoption("dist", "no") != "no"
        and bool(config.getoption("tx", None))
    )


def _parse_selection(config: pytest.Config) -> Selection:
    """Bad values end the session in one line (exit 2), before pytest prints anything.

    A user's task is also trained for a moment here (`_check_user_tasks`), in the
    process pytest was started in only: a pytest-xdist worker trusts its controller's
    check, since running a TensorFlow op would fix its thread pools before it sizes them.
    """
    from hpo.experiment.profiles import check_engine, get_profile, parse_seeds
    from hpo.experiment.tasks import TASKS, parse_tasks
    from hpo.tuners import parse_tuners

    if any(t.strip() not in (*TASKS, "all", "") for t in config.getoption("hpo_tasks").split(",")):
        from hpo.run.runtime import import_tensorflow_quietly  # a user's task imports Keras

        import_tensorflow_quietly()
    try:
        check_engine(config.getoption("hpo_engine"))
        selection = Selection(
            parse_tuners(config.getoption("hpo_tuners")),
            parse_seeds(config.getoption("hpo_seeds")),
            get_profile(config.getoption("hpo_profile")).name,
            parse_tasks(config.getoption("hpo_tasks")),
        )
        if config.getoption("hpo_replay") is not None:
            return _replayed_selection(config, selection)
        if worker_id() is None:
            _check_user_tasks(selection)
        return selection
    except HpoError as e:
        bad_input(str(e))
        raise  # pytest.exit raised already


def _replayed_selection(config: pytest.Config, selection: Selection) -> Selection:
    """With --hpo-replay TABLE: the table's task, and its profile unless --hpo-profile names
    one of fewer epochs (each row's first epochs); another task, or more epochs, is refused
    in one line. The graph engine, this machine."""
    from hpo.replay import check_table
    from hpo.tables import Table

    path = config.getoption("hpo_replay")
    table = Table.load(path)  # HpoError: one line
    tasks = config.getoption("hpo_tasks")
    if _given(config, "--hpo-tasks") and tasks != table.task:
        raise HpoError(f"--hpo-tasks {tasks}: the table {path} is of {table.task} (--hpo-replay)")
    profile = str(table.meta.get("profile"))
    if _given(config, "--hpo-profile"):
        profile = config.getoption("hpo_profile")
        check_table(table, selection.tuners[0], selection.seeds[0], profile)  # one line
    return selection._replace(profile=profile, tasks=[table.task])


def _given(config: pytest.Config, option: str) -> bool:
    """Whether `option` was given (command line, PYTEST_ADDOPTS or the ini's addopts) rather
    than left at its default: pytest's getoption cannot tell a default from the same value."""
    import shlex

    args = [
        *map(str, config.invocation_params.args),
        *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
        *map(str, config.getini("addopts")),
    ]
    return any(a == option or a.startswith(f"{option}=") for a in args)


def _check_user_tasks(selection: Selection) -> None:
    """A user's task is checked on its first seed's split before any cell starts."""
    from hpo.experiment.tasks import TASKS

    own = [t for t in selection.tasks if t not in TASKS]
    if not own:
        return
    from hpo.run.cell import Cell, check_cell

    for task in own:
        check_cell(Cell.of(selection.tuners[0], selection.seeds[0], selection.profile, task))


def _check_tracking(config: pytest.Config) -> None:
    """An MLflow URI it cannot log to ends the session before any cell runs."""
    uri = config.getoption("hpo_mlflow")
    if not uri:
        return
    from hpo.run.tracking import check_mlflow_uri

    try:
        check_mlflow_uri(uri)
    except HpoError as e:
        bad_input(str(e))


def _workers(text: str) -> int:
    """--hpo-workers' value, checked as `hpo run --workers` checks it (HpoError: one line)."""
    import argparse

    from hpo.options import workers_type

    try:
        return workers_type(str(text))
    except argparse.ArgumentTypeError as e:
        raise HpoError(f"--hpo-workers {e}") from None


def _check_limits(config: pytest.Config) -> None:
    """The peer comparison's goals and the report's smallest effect: positive numbers,
    stored back as floats."""
    from hpo.experiment.profiles import positive_number

    for name in LIMITS:
        text = config.getoption(name)
        if text is None:
            continue
        try:
            value = positive_number(text, "--" + name.replace("_", "-"))
        except HpoError as e:
            bad_input(str(e))
        setattr(config.option, name, value)


class HpoSession:
    """Everything one pytest session of hpo's knows: what it selected, where its JSON
    goes, the cluster it runs on, and the records, references and stopped cells its
    tests report (in an xdist controller: read back from the merged JSON)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.worker = worker_id()
        self.uses_cells = uses_cells(config)
        self.threads: int | None = None  # TensorFlow threads per cell in this worker
        if self.worker is not None and self.uses_cells:
            self._share_cores()  # before a user's task module is imported, which may run ops
        self.selection = _parse_selection(config)  # the options' own values: cheap, checked
        _check_limits(config)
        _check_tracking(config)
        self.engine: str = config.getoption("hpo_engine")
        self.replay: str | None = config.getoption("hpo_replay")  # a table's path
        try:
            self.where = Placement(
                replay=self.replay,
                cluster=config.getoption("hpo_cluster"),
                workers=_workers(config.getoption("hpo_workers")),
                isolate=True,
                engine=self.engine,
                spelling={n: f"--hpo-{n}" for n in ("replay", "cluster", "engine", "workers")},
            )
            self.where.check()  # options that cannot go together: one line, exit 2
        except HpoError as e:
            bad_input(str(e))
            raise  # pytest.exit raised already
        self._runner: Runner | None = None
        self.active = False  # switched on by collecting a test that asks for an hpo_* fixture
        self.records: list[CellResult] = []
        self.references: list[dict[str, Any]] = []
        self.stopped: list[dict[str, Any]] = []
        self.provenance: list[dict[str, Any]] = []
        self.parts: list[Path] = []  # the xdist workers' JSON parts, on the controller
        self._trials_moved = False  # the session's JSON has had its trials moved beside it
        self._calibration: float | None = None
        self.cluster: Cluster | None = self._open_cluster()
        self.progress: SessionProgress | None = None

    def start(self) -> None:
        """Before collection: progress lines on the controller, and TensorFlow imported
        quietly in a process that will run cells' tests (its import and first device
        query print C++ lines to file descriptor 2, past pytest's capture with -s)."""
        if not self.uses_cells or self.config.getoption("help", False):
            return
        if self.worker is None:
            self.progress = SessionProgress(self)
            self.config.pluginmanager.register(self.progress, "hpo-session-progress")
        if not _distributes(self.config):
            from hpo.run.runtime import import_tensorflow_quietly

            import_tensorflow_quietly()

    def _share_cores(self) -> None:
        """In an xdist worker: this worker's share of the cores, for each cell's process and
        for TensorFlow's pools here (they default to all cores; sizable only before an op)."""
        from hpo.run.runtime import import_tensorflow_quietly, set_threads

        import_tensorflow_quietly()
        workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        self.threads = max(1, cores() // workers)
        try:
            set_threads(self.threads)
        except HpoError as e:  # a conftest or plugin ran an op first: cells are still sized
            note = f"{str(e).rstrip('.')}; each cell's own process still runs {self.threads}"
            sys.stderr.write(f"hpo: note: {note}\n")

    def _open_cluster(self) -> Cluster | None:
        """Connect to the --hpo-cluster (or start it) before any cell: a bad address, a
        cluster without workers or with other versions ends the session in one line."""
        text = self.config.getoption("hpo_cluster")
        if text is None or self.worker is not None or self.config.option.collectonly:
            return None
        from hpo.parallel.cluster import Cluster, parse_cluster

        try:
            address = parse_cluster(text)
            return Cluster(address) if self.uses_cells else None
        except HpoError as e:
            bad_input(str(e))
            raise  # pytest.exit raised already

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.cluster is not None:
            self.cluster.close()

    # ------------------------------------------------------------ where things go

    @property
    def target_json(self) -> Path:
        """The session's benchmark JSON: --benchmark-json, else results/benchmarks-PROFILE.json."""
        given = self.config.getoption("benchmark_json", None)
        if given is not None:
            return Path(given)
        return RESULTS_DIR / f"benchmarks-{self.selection.profile}.json"

    @property
    def cells_dir(self) -> Path:
        """Each finished cell's record, beside the benchmark JSON: JSONSTEM-cells/."""
        json_path = self.target_json
        return json_path.with_name(f"{json_path.stem}-cells")

    @property
    def status_dir(self) -> Path:
        """The running cells' status files, read by the controller's live display."""
        return self.cells_dir / ".running"

    def part_path(self, worker: str) -> Path:
        """An xdist worker's part of the benchmark JSON, merged by the controller."""
        json_path = self.target_json
        return json_path.with_name(f".{json_path.name}.{worker}.part")

    @property
    def verbose(self) -> bool:
        """Trial-by-trial lines: with -v or --hpo-verbose."""
        return bool(self.config.getoption("hpo_verbose") or self.config.option.verbose > 0)

    @property
    def calibration_s(self) -> float:
        """This session's machine-speed yardstick, measured once, before the first search."""
        if self._calibration is None:
            from hpo.run.calibration import calibrate

            self._calibration = calibrate()
        return self._calibration

    @property
    def recorded_calibration_s(self) -> float | None:
        """The calibration figure kept with the session's records: none when it replays (a
        replayed search's time is its table's trainings', not this machine's: measuring
        it cost a replay session 10-27 s)."""
        return None if self.replay is not None else self.calibration_s

    def run_options(self) -> RunOptions:
        from hpo.run.store import RunOptions

        return RunOptions(
            force=self.config.getoption("hpo_force"), calibration_s=self.recorded_calibration_s
        )

    @property
    def runner(self) -> Runner:
        """Where this session's cells run, chosen once (`hpo.runners.get_runner`): replayed
        from --hpo-replay's table, on --hpo-cluster, else each in a fresh process."""
        if self._runner is None:
            from hpo.runners import OnCluster, get_runner

            if self.cluster is not None:
                self._runner = OnCluster(self.cluster)
            else:
                self._runner = get_runner(dataclasses.replace(self.where, threads=self.threads))
        return self._runner

    def run_cell(self, cell: Any) -> tuple[CellResult, Any]:
        """The cell's (record, Outcome), its record kept in the cells folder: reused, resumed
        or run by the session's runner. A lost cluster ends the session, naming the records
        kept for the next run to reuse."""
        from hpo.parallel.cluster import ClusterLost

        record_path = self.cells_dir / f"{cell.name}.json"
        try:
            with self.uncaptured():  # the cell's process prints its progress past the capture
                return self.runner.run(cell, record_path, self.run_options(), self.reporting(cell))
        except ClusterLost as e:
            done = sorted(p.name for p in record_path.parent.glob("*.json"))
            pytest.exit(
                f"hpo: error: {e}; {len(done)} cell record(s) are in {record_path.parent}:"
                " run the same command again to reuse them and resume the rest",
                returncode=EXIT_STOPPED,
            )

    @contextlib.contextmanager
    def uncaptured(self) -> Iterator[None]:
        """A context in which output reaches the terminal past pytest's capture: a cell's
        child process started in it inherits the real stderr, so its per-trial lines show
        while the search runs (searches take minutes)."""
        capture = self.config.pluginmanager.getplugin("capturemanager")
        if capture is None:
            yield
            return
        with capture.global_and_fixture_disabled():
            sys.stderr.write("\n")  # off the line where pytest prints the test's file name
            sys.stderr.flush()
            yield

    def track(self, record: CellResult) -> None:
        """Log a finished record to TensorBoard and/or MLflow, as the options ask."""
        tensorboard = self.config.getoption("hpo_tensorboard")
        mlflow_uri = self.config.getoption("hpo_mlflow")
        if tensorboard or mlflow_uri:
            from hpo.run.tracking import track

            track(record, tensorboard, mlflow_uri)

    def reporting(self, cell: Any) -> Reporting:
        """How a cell's process shows progress in this session."""
        from hpo.parallel.isolation import Reporting

        self.status_dir.mkdir(parents=True, exist_ok=True)
        return Reporting(self.verbose, str(self.status_dir / f"{cell.name}.json"))

    # ------------------------------------------------------------ collection

    def parametrize(self, metafunc: pytest.Metafunc) -> None:
        """Tests asking for hpo_task, hpo_tuner, hpo_seed: one per selected value."""
        if "hpo_task" in metafunc.fixturenames:
            metafunc.parametrize("hpo_task", self.selection.tasks)
        if "hpo_tuner" in metafunc.fixturenames:
            metafunc.parametrize("hpo_tuner", self.selection.tuners)
        if "hpo_seed" in metafunc.fixturenames:
            metafunc.parametrize("hpo_seed", self.selection.seeds)

    def collected(self, items: list[pytest.Item]) -> None:
        """Deselect hpo_peer tests without --hpo-peer; switch the session's hpo work on if
        a test asks for an hpo_* fixture: its JSON's path, and in a worker its share of cores."""
        if not self.config.getoption("hpo_peer"):
            peer = [item for item in items if item.get_closest_marker("hpo_peer")]
            if peer:
                self.config.hook.pytest_deselected(items=peer)
                items[:] = [item for item in items if not item.get_closest_marker("hpo_peer")]
        if not any(_uses_hpo(item) for item in items):
            return
        self.active = True
        target = self.target_json
        if self.worker is not None:
            from hpo.run.runtime import die_with_parent

            if self.threads is None:
                self._share_cores()
            die_with_parent()  # a killed session leaves no worker searching behind it
            keep_on_under_xdist(self.config)
            write_json_to(self.config, self.part_path(self.worker))
        else:
            write_json_to(self.config, target)
        target.parent.mkdir(parents=True, exist_ok=True)

    def submit_to_cluster(self, session: pytest.Session) -> None:
        """On a cluster: send every cell this session will ask for, so they run in parallel
        while the tests wait for them one by one."""
        if self.cluster is None:
            return
        from hpo.experiment.profiles import DEFAULT_TASK
        from hpo.run.cell import Cell

        profile = self.selection.profile
        engine = self.engine
        cells = []
        for item in session.items:
            params = getattr(getattr(item, "callspec", None), "params", {})
            if "hpo_cell" in getattr(item, "fixturenames", ()) and "hpo_tuner" in params:
                cells.append(
                    Cell.of(
                        params["hpo_tuner"],
                        params["hpo_seed"],
                        profile,
                        params.get("hpo_task", DEFAULT_TASK),
                        engine,
                    )
                )
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        self.cluster.submit(
            [(c, self.cells_dir / f"{c.name}.json") for c in dict.fromkeys(cells)],
            self.run_options(),
        )

    # ------------------------------------------------------------ the JSON

    def worker_done(self, worker: str) -> None:
        """On the controller: remember a finished worker's JSON part."""
        self.parts.append(self.part_path(worker))

    def merge_parts(self) -> None:
        """On the controller of a parallel run: merge the workers' parts into one JSON, and
        read the session's records back from it for the summary."""
        parts = [p for p in self.parts if p.exists()]
        if not parts:
            return
        from hpo.experiment.results import load_results, move_trials_aside, write_text

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
        target = self.target_json
        move_trials_aside(merged, target)
        write_text(target, json.dumps(merged, indent=4))
        for p in parts:
            p.unlink()
        self.active = True
        try:
            results = load_results([target])
        except HpoError:  # e.g. only references ran
            return
        self.records = results.cells
        self.references = results.references
        self.stopped = results.stopped
        self.provenance = results.provenance

    def update_machine_info(self, machine_info: dict[str, Any]) -> None:
        """The JSON's machine_info["hpo"]: library versions, calibration and cluster."""
        if not self.active:
            return
        from hpo.run.provenance import versions

        machine_info["hpo"] = {**versions(), "calibration_s": self.recorded_calibration_s}
        if self.cluster is not None:
            machine_info["hpo"]["cluster"] = self.cluster.describe()

    def update_json(self, output_json: dict[str, Any]) -> None:
        """The benchmark JSON, before it is written: every benchmark with the cells' params,
        and the cells' trials moved beside it (an xdist worker's part keeps them: the
        controller's merge moves them). Only the first JSON of the session (the one hpo
        points pytest-benchmark at); a --benchmark-autosave copy keeps its trials inline."""
        if not self.active:
            return
        with_cell_params(output_json)
        if self.worker is None and not self._trials_moved:
            from hpo.experiment.results import move_trials_aside

            move_trials_aside(output_json, self.target_json)
            self._trials_moved = True

    # ------------------------------------------------------------ the summary

    def summarize(self, terminalreporter: Any) -> None:
        """Per-tuner means, then the report written beside the JSON and its verdict."""
        if not self.records:
            return
        from hpo.analysis.replayed import replayed_from, replayed_words
        from hpo.analysis.report import conclusions, main_table, tuner_table, write_report
        from hpo.experiment.results import Results
        from hpo.tuners import budget_texts

        replayed = replayed_words(replayed_from(self.records))
        terminalreporter.write_sep(
            "=", "hpo: per-tuner means" + (f", {replayed}" if replayed else "")
        )
        terminalreporter.write_line(tuner_table(self.records))
        json_path = self.target_json
        out = default_report_dir(json_path)
        try:
            results = Results(
                self.records,
                self.references,
                self.stopped,
                self.provenance or [self._this_session(json_path)],
            )
            summary = write_report(
                results,
                out,
                budgets=budget_texts(self.selection.tuners, self.selection.profile),
                smallest_effect=self.config.getoption("hpo_smallest_effect"),
            )
        except HpoError as e:
            terminalreporter.write_line(f"hpo: no report: {e}", red=True)
            return
        terminalreporter.write_sep("=", "hpo: report")
        terminalreporter.write_line(main_table(summary))
        terminalreporter.write_line("")
        for line in conclusions(summary):
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"full report: {out / 'report.md'}")

    def _this_session(self, json_path: Path) -> dict[str, Any]:
        """The report's provenance of a session run in one process (a parallel session's
        comes from the merged JSON): when, and where its cells ran."""
        from datetime import UTC, datetime

        entry: dict[str, Any] = {
            "source": str(json_path),
            "datetime": datetime.now(UTC).isoformat(timespec="seconds"),
            "xdist_workers": 1,
        }
        if self.cluster is not None:
            entry["cluster"] = self.cluster.describe()
        return entry


def with_cell_params(output_json: dict[str, Any]) -> None:
    """Give every benchmark the params hpo's cells have, null where it has none (the untuned
    references have no tuner), so that pytest-benchmark's own `pytest-benchmark compare
    --group-by=param:hpo_tuner` (or hpo_seed, hpo_task) can group the whole file: it
    looks each benchmark's param up by name."""
    for bench in output_json.get("benchmarks", []):
        params = bench.get("params") or {}
        for name in PARAMETRIZED:
            params.setdefault(name, None)
        bench["params"] = params


def _uses_hpo(item: pytest.Item) -> bool:
    return any(name.startswith("hpo_") for name in getattr(item, "fixturenames", ()))


class SessionProgress:
    """On the controller: a line per finished cell with the session's progress and ETA, and
    on a terminal (unless -v) live lines: the session, then each running cell.

    Workers cannot print through pytest-xdist, so each cell's test report carries its line
    and epochs; running cells keep a status file (hpo.run.progress.status_writer).
    """

    def __init__(self, hpo: HpoSession) -> None:
        from hpo.run.progress import SessionState

        self.hpo = hpo
        chosen = hpo.selection
        self.state = SessionState(
            cells_total=len(chosen.tuners) * len(chosen.seeds) * len(chosen.tasks),
            started=time.monotonic(),
        )
        self.display: Any = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if sys.stderr.isatty() and not self.hpo.verbose:
            from hpo.run.progress import SessionDisplay

            self.display = SessionDisplay(self.state, self.hpo.status_dir)
            self.display.start()
        threading.Thread(target=self._plan, daemon=True).start()

    def _plan(self) -> None:
        """Planned epochs of all selected cells (Hyperband's plan is a dry run: seconds)."""
        from hpo.experiment.profiles import get_profile
        from hpo.tuners import planned_budget

        # No fd-2 redirect here (hpo.run.runtime.import_tensorflow_quietly): this thread runs
        # while pytest-xdist starts its workers, which would inherit /dev/null as stderr.
        chosen = self.hpo.selection
        with contextlib.suppress(Exception):  # no total: the line shows cells and time only
            self.state.epochs_total = (
                len(chosen.seeds)
                * len(chosen.tasks)
                * sum(planned_budget(t, get_profile(chosen.profile)).epochs for t in chosen.tuners)
            )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        terminal = self.hpo.config.pluginmanager.get_plugin("terminalreporter")
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


def hpo_session(config: pytest.Config) -> HpoSession:
    """The session's HpoSession (registered when the session was configured)."""
    found = config.pluginmanager.get_plugin(SESSION_NAME)
    if not isinstance(found, HpoSession):
        raise RuntimeError("hpo's pytest plugin is not configured in this session")
    return found
