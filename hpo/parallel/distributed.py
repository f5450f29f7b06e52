"""Keras Tuner's distributed mode: one chief oracle and N workers over gRPC, started by hpo.

`run_distributed` starts, on this machine, a chief process that holds the
oracle and serves it on 127.0.0.1, and `workers` processes that ask it for
trials and train them, all in one Keras Tuner project directory. When every
worker has left (the oracle has no trial to give), the chief is stopped and
this process reloads the project to judge the best model on the test rows.

A worker that dies is started again under its id and given back its trial;
one that keeps dying stops the search with an error (see `run_distributed`).

The same two roles run on several machines (docs/distributed.md):

    KERASTUNER_TUNER_ID=chief KERASTUNER_ORACLE_IP=0.0.0.0 KERASTUNER_ORACLE_PORT=8000 \\
        python -m hpo.distributed chief --tuner bayesian --seed 0 --dir /shared/cell
    KERASTUNER_TUNER_ID=tuner0 KERASTUNER_ORACLE_IP=<chief address> KERASTUNER_ORACLE_PORT=8000 \\
        python -m hpo.distributed worker --tuner bayesian --seed 0 --dir /shared/cell

Workers load checkpoints of other workers' trials (Hyperband's later rounds,
the best model), so `--dir` must be one shared filesystem.

Trials run concurrently, so what a Bayesian oracle proposes, and which trials
Hyperband promotes, depends on the order results arrive: a distributed cell
trains the same budget but is not bit-reproducible.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hpo.errors import HpoError
from hpo.experiment.profiles import DEFAULT_ENGINE, DEFAULT_TASK, ENGINES
from hpo.experiment.records import Fault
from hpo.experiment.results import CellResult
from hpo.run.cell import Cell

if TYPE_CHECKING:
    from hpo.replay.live import OnGrid

CHIEF_START_TIMEOUT_S = 120.0
MAX_WORKER_RESTARTS = 2  # per worker id, before the search is stopped
POLL_S = 0.5


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, chief: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if chief.poll() is not None:
            raise HpoError(f"the chief oracle exited with code {chief.returncode} before serving")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise HpoError(f"the chief oracle did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def run_distributed(
    cell: Cell,
    workers: int = 2,
    workdir: str | os.PathLike[str] | None = None,
    quiet: bool = False,
    max_restarts: int = MAX_WORKER_RESTARTS,
    table: str | os.PathLike[str] | None = None,
) -> CellResult:
    """One cell searched by `workers` Keras Tuner workers around one chief oracle.

    With `table` (a table's path), the search is the live twin of its replay on that many
    simulated workers: the table's grid, trial-seed rule and split (`hpo.replay.live.OnGrid`;
    `cell` as `hpo.replay.check_table` gives it).

    A worker that dies (killed, out of memory) is started again under the same
    id, up to `max_restarts` times each: the chief hands it back the trial it
    was running, so no trial is lost or run twice, and the record's `faults`
    lists each death. Past that, the search stops with an error instead of
    leaving the other workers waiting for a trial that will never end.
    """
    if workers < 1:
        raise HpoError(f"workers must be at least 1, got {workers}")
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix=f"hpo-dist-{cell.name}-") as tmp:
            return run_distributed(cell, workers, tmp, quiet, max_restarts, table)

    port = _free_port()
    base = {
        **os.environ,
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": str(port),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    args = [
        *["--tuner", cell.tuner, "--seed", str(cell.seed), "--profile", cell.profile.name],
        *["--task", cell.task.name, "--engine", cell.engine, "--dir", str(workdir)],
        *(["--table", str(table)] if table is not None else []),
    ]
    threads = str(max(1, (os.cpu_count() or 1) // workers))

    def start(role: str, tuner_id: str) -> subprocess.Popen:
        extra = ["--threads", threads, *(["--quiet"] if quiet else [])] if role == "worker" else []
        return subprocess.Popen(
            [sys.executable, "-m", "hpo.distributed", role, *args, *extra],
            env={**base, "KERASTUNER_TUNER_ID": tuner_id},
        )

    started = time.perf_counter()
    chief = start("chief", "chief")
    running: dict[str, subprocess.Popen] = {}
    faults: list[Fault] = []
    try:
        _wait_listening(port, chief, CHIEF_START_TIMEOUT_S)
        running = {f"tuner{i}": start("worker", f"tuner{i}") for i in range(workers)}
        while running:
            time.sleep(POLL_S)
            for tuner_id, proc in list(running.items()):
                code = proc.poll()
                if code is None:
                    continue
                del running[tuner_id]
                if code == 0:
                    continue
                deaths = 1 + sum(f.worker == tuner_id for f in faults)
                restart = deaths <= max_restarts
                faults.append(
                    Fault(
                        worker=tuner_id,
                        exit_code=code,
                        after_s=round(time.perf_counter() - started, 1),
                        action="restarted" if restart else "search stopped",
                    )
                )
                if not restart:
                    raise HpoError(
                        f"worker {tuner_id} died {deaths} time(s) (last exit code {code}); "
                        "the search is stopped, its saved trials are in "
                        f"{Path(workdir).resolve()}"
                    )
                print(
                    f"hpo: worker {tuner_id} exited with code {code}; starting it again "
                    "(it resumes the trial it was running)",
                    file=sys.stderr,
                )
                running[tuner_id] = start("worker", tuner_id)
            if chief.poll() is not None and running:
                raise HpoError(f"the chief oracle exited with code {chief.returncode}")
        wall = time.perf_counter() - started
    finally:
        # Every trial the workers ran has been saved by the oracle; the chief only
        # polls (every 20 s) for stragglers that are gone, so stop it now.
        for p in [*running.values(), chief]:
            if p.poll() is None:
                p.terminate()
        for p in [*running.values(), chief]:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=30)
    result = _record(cell, Path(workdir), wall, workers, _on_grid(table))
    result.faults = faults
    return result


def _on_grid(table: str | os.PathLike[str] | None) -> OnGrid | None:
    """A table's grid, seed rule and split, for a search that is the live twin of its replay."""
    if table is None:
        return None
    from hpo.replay.live import OnGrid
    from hpo.tables.table import Table

    return OnGrid(Table.load(table))


def _record(
    cell: Cell, workdir: Path, wall: float, workers: int, grid: OnGrid | None = None
) -> CellResult:
    """Reload the finished project here (no chief) and judge its best model on the test rows."""
    from hpo.experiment.data import load_splits
    from hpo.experiment.records import TrialRecord
    from hpo.experiment.results import read_json
    from hpo.run.cell import evaluate_search
    from hpo.run.record import SearchStats
    from hpo.run.search import keras_tuner_made_safe, make_tuner

    with keras_tuner_made_safe():
        search = make_tuner(
            cell,
            str(workdir),
            hypermodel=grid.hypermodel if grid else None,
            overwrite=False,
            trial_seeds=grid.trial_seeds if grid else None,
        )
        history: list[TrialRecord] = []
        peaks = []
        for part in sorted(Path(search.project_dir).glob("hpo-history-tuner*.json")):
            log = read_json(part)
            history.extend(TrialRecord.from_dict(h) for h in log["history"])
            peaks.append(log["peak_rss_mb"])
        history.sort(key=lambda h: h.elapsed_s)
        stats = SearchStats(history, wall, workers=workers, peak_rss_mb=max(peaks, default=None))
        split_seed = grid.split_seed if grid else cell.seed
        return evaluate_search(search, cell, load_splits(split_seed, cell.task), stats)


def _serve(role: str, args: argparse.Namespace) -> None:
    """The chief serves the oracle until the search ends; a worker trains trials."""
    from hpo.experiment.data import load_splits
    from hpo.run.cell import search_kwargs
    from hpo.run.runtime import seed_everything, set_threads
    from hpo.run.search import keras_tuner_made_safe, make_tuner

    grid = _on_grid(args.table)
    # A twin trains with its table's threads: TensorFlow's default where the table does not
    # say (rows trained where TensorFlow had already run), not a share of the cores.
    threads = grid.threads if grid else args.threads
    if threads:
        set_threads(threads)
    cell = Cell.of(args.tuner, args.seed, args.profile, args.task, args.engine)
    splits = load_splits(grid.split_seed if grid else cell.seed, cell.task)
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", role)
    # Each trial is seeded from the cell seed and its index (hpo.run.search), on any worker.
    seed_everything(cell.seed)
    progress = None
    if role == "worker" and not args.quiet:
        from hpo.run.progress import trial_printer

        budget = cell.budget
        progress = trial_printer(f"{cell.label} [{tuner_id}]", budget)
    with keras_tuner_made_safe():
        search = make_tuner(
            cell,
            args.dir,
            hypermodel=grid.hypermodel if grid else None,
            trial_seeds=grid.trial_seeds if grid else None,
            progress=progress,
            # A worker started again after it died picks up its log and the trial it was running.
            overwrite=(role == "chief"),
            # A worker told "idle" (a Hyperband round awaiting results) waits before asking
            # again; the chief must not, its one gRPC thread answers every worker.
            idle_wait_s=0.25 if role == "worker" else 0.0,
        )
        fit_args, fit_kwargs = search_kwargs(splits, cell)
        search.search(*fit_args, **fit_kwargs)  # a worker's log is saved after every trial


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hpo.distributed", description=__doc__)
    parser.add_argument("role", choices=["chief", "worker"])
    parser.add_argument("--tuner", required=True)
    parser.add_argument("--seed", required=True, type=int)
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--task", default=DEFAULT_TASK)
    parser.add_argument("--engine", default=DEFAULT_ENGINE, choices=ENGINES)
    parser.add_argument("--dir", required=True, help="the Keras Tuner project folder (shared)")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: default)")
    parser.add_argument("--quiet", action="store_true", help="no per-trial progress lines")
    parser.add_argument(
        "--table", default=None, help="search this table's grid on its split (a replay's twin)"
    )
    args = parser.parse_args(argv)
    for var in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        if var not in os.environ:
            print(f"hpo.distributed: error: environment variable {var} is not set", file=sys.stderr)
            return 2
    try:
        _serve(args.role, args)
    except HpoError as e:
        print(f"hpo.distributed: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
