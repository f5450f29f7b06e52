"""Benchmark cells on a Dask distributed cluster: the matrix spread over machines.

Dask, not Ray, by measurement on this machine (`benchmarks/cluster_probe.py`;
the figures are in docs/distributed.md): a local cluster starts in about 1 s against
Ray's 5-6 s, a worker holds ~63 MB beside TensorFlow's ~800 MB per cell against
Ray's 80-130 MB plus ~75 MB of daemons, and both run a task again elsewhere when
its worker dies. Dask is also pure Python (24 MB installed against Ray's 240 MB).

Each cell is one Dask task, run as a local session runs it (`hpo.parallel.isolation`: a
spawned process that dies with its parent, TensorFlow's threads sized to the
worker's share of its machine's cores), with its record and work folder in the
session's cells folder, which every worker must see at the same path. A worker
lost mid-cell: Dask gives the task to another worker (up to its
`allowed-failures`), which resumes the cell from the saved state there.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hpo.errors import HpoError
from hpo.experiment.results import CellResult, write_json
from hpo.run.cell import Cell
from hpo.run.store import Outcome, RunOptions, discard, saved_record

CONNECT_TIMEOUT_S = 10
_LOCAL = re.compile(r"local:(\d+)", re.ASCII)
# What a record depends on, as installed distributions (`hpo.run.provenance.versions` imports
# them; a Dask worker process itself never imports TensorFlow, only its cells' processes do).
DISTRIBUTIONS = ("keras-hpo-bench", "tensorflow", "keras", "keras-tuner", "scikit-learn", "numpy")


@dataclass(frozen=True)
class ClusterAddress:
    """Where cells go: a local cluster of `local_workers` started here, or a scheduler."""

    text: str
    local_workers: int | None = None


def parse_cluster(text: str) -> ClusterAddress:
    """`local:N` (N >= 1 workers started here) or a Dask scheduler's address."""
    text = text.strip()
    match = _LOCAL.fullmatch(text)
    if match:
        workers = int(match[1])
        if workers < 1:
            raise HpoError(f"cluster {text!r}: a local cluster needs at least 1 worker (local:N)")
        return ClusterAddress(text, workers)
    if not text or text.startswith("local") or any(c.isspace() for c in text):
        raise HpoError(
            f"bad cluster {text!r}: local:N, or a Dask scheduler's address such as tcp://HOST:8786"
        )
    return ClusterAddress(text)


def worker_facts() -> dict[str, Any]:
    """What a worker has installed, its host and its cores (run on each worker)."""
    import socket
    from importlib.metadata import PackageNotFoundError, version

    from hpo.run.provenance import source_hash

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    import multiprocessing

    return {
        "versions": {name: installed(name) for name in DISTRIBUTIONS},
        "hpo_source": source_hash(),
        "host": socket.gethostname(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1,
        # A daemonic worker (Dask's default) may not start the process a cell runs in.
        "daemon": multiprocessing.current_process().daemon,
    }


def mismatch(ours: dict[str, Any], theirs: dict[str, Any]) -> str | None:
    """How a worker's installation differs from this process's, in words; None if it does not."""
    diffs = [
        f"{name} {theirs['versions'].get(name)} (here {v})"
        for name, v in ours["versions"].items()
        if theirs["versions"].get(name) != v
    ]
    if theirs.get("hpo_source") != ours["hpo_source"]:
        diffs.append(f"hpo source {theirs.get('hpo_source')} (here {ours['hpo_source']})")
    return ", ".join(diffs) or None


class Cluster:
    """A connection to a Dask cluster (and the local cluster it started, if any).

    Connecting checks that the cluster has workers and that each one runs the
    same hpo and libraries as this process; either failure is an HpoError.
    """

    def __init__(self, address: ClusterAddress) -> None:
        from distributed import Client, LocalCluster

        self.address = address
        self._local: Any = None
        self._futures: dict[Cell, Any] = {}
        self._tasks_checked: set[str] = set()
        self._session = uuid.uuid4().hex[:8]
        target: Any = address.text
        if address.local_workers is not None:
            import dask

            with dask.config.set({"distributed.worker.daemon": False}):
                self._local = LocalCluster(
                    n_workers=address.local_workers,
                    threads_per_worker=1,  # one cell at a time per worker
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            target = self._local
        try:
            self.client = Client(target, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as e:
            self.close()
            raise HpoError(f"cannot reach the Dask scheduler at {address.text}: {e}") from None
        try:
            self._threads = self._check_workers()
        except HpoError:
            self.close()
            raise

    @property
    def workers(self) -> int:
        """Workers now, or when it connected if the scheduler is gone."""
        return len(self.client.scheduler_info().get("workers") or {}) or self._workers_at_start

    def describe(self) -> dict[str, Any]:
        """What records' provenance says of it."""
        return {"engine": "dask", "address": self.address.text, "workers": self.workers}

    def _check_workers(self) -> dict[str, int]:
        """TensorFlow threads per host (its cores shared among its workers), once every
        worker is found to run what this process runs."""
        facts = self.client.run(worker_facts)
        self._workers_at_start = len(facts)
        if not facts:
            raise HpoError(f"the Dask cluster at {self.address.text} has no workers")
        ours = worker_facts()
        for worker, theirs in sorted(facts.items()):
            if theirs["daemon"]:
                raise HpoError(
                    f"Dask worker {worker} is a daemonic process and cannot start a cell's"
                    " process; start workers with DASK_DISTRIBUTED__WORKER__DAEMON=False"
                )
            diff = mismatch(ours, theirs)
            if diff is not None:
                raise HpoError(
                    f"Dask worker {worker} runs other versions: {diff}; install the same hpo"
                    " and libraries on every worker"
                )
        per_host: dict[str, list[dict[str, Any]]] = {}
        for theirs in facts.values():
            per_host.setdefault(theirs["host"], []).append(theirs)
        return {host: max(1, w[0]["cores"] // len(w)) for host, w in per_host.items()}

    def _check_task(self, name: str) -> None:
        """A task brought as MODULE:ATTR (or by entry point) must load on every worker."""
        from hpo.experiment.tasks import TASKS

        if name in TASKS or name in self._tasks_checked:
            return
        for worker, error in sorted(self.client.run(task_error, name).items()):
            if error is not None:
                raise HpoError(
                    f"Dask worker {worker} cannot load task {name!r} ({error}); make its module"
                    " importable there (install it, or start the worker in its folder)"
                )
        self._tasks_checked.add(name)

    def submit(self, cells: Iterable[tuple[Cell, Path]], options: RunOptions) -> None:
        """Start `cells` (each with its record path) on the cluster; reusable records are not
        sent. With `options.force`, each record and saved state is discarded here first, so
        a task Dask runs again after losing its worker resumes, not restarts."""
        for cell, record_path in cells:
            if cell in self._futures:
                continue
            self._check_task(cell.task.name)
            if options.force:
                discard(record_path)
            elif saved_record(record_path, cell) is not None:
                continue
            self._futures[cell] = self.client.submit(
                run_on_worker,
                cell,
                str(record_path),
                replace(options, force=False),
                self._threads,
                key=f"hpo-{cell.name}-{self._session}",
                pure=False,
            )

    def result(
        self, cell: Cell, record_path: Path, options: RunOptions
    ) -> tuple[CellResult, Outcome]:
        """The cell's record, once its task has run (submitted now if it was not)."""
        saved = None if options.force else saved_record(record_path, cell)
        if saved is not None and cell not in self._futures:
            return saved, Outcome.REUSED
        self.submit([(cell, record_path)], options)
        future = self._futures[cell]
        try:
            record, how = future.result()
        except Exception as e:
            from distributed import KilledWorker

            if isinstance(e, KilledWorker):
                raise HpoError(
                    f"{cell.label}: its Dask worker died on every try (Dask's allowed-failures)"
                ) from None
            if self.client.status != "running" or _lost_connection(e):
                raise ClusterLost(self.address.text) from None
            raise  # the cell's own error, as a local run raises it
        result = CellResult.from_dict(record)
        if not record_path.exists():  # a worker without this folder: keep the record here too
            write_json(record_path, result.to_dict())
        return result, Outcome(how)

    def close(self) -> None:
        if getattr(self, "client", None) is not None:
            self.client.close()
        if self._local is not None:
            self._local.close()


class ClusterLost(HpoError):
    """The scheduler went away while cells ran."""

    def __init__(self, address: str) -> None:
        super().__init__(f"lost the Dask scheduler at {address}")


def _lost_connection(error: BaseException) -> bool:
    from distributed.comm.core import CommClosedError

    return (
        isinstance(error, CommClosedError | OSError | TimeoutError)
        or "scheduler" in str(error).lower()
    )


def task_error(name: str) -> str | None:
    """Run on a worker: why the task `name` does not load there, or None if it does."""
    from hpo.experiment.tasks import get_task

    try:
        get_task(name)
    except HpoError as e:
        return str(e)
    return None


def run_on_worker(
    cell: Cell, record_path: str, options: RunOptions, threads: dict[str, int]
) -> tuple[dict[str, Any], str]:
    """A Dask task: the cell in a fresh process on this worker, as a local session runs it."""
    import socket

    from hpo.parallel.isolation import Reporting, run_cell_isolated

    result, how = run_cell_isolated(
        cell,
        record_path=record_path,
        options=options,
        threads=threads.get(socket.gethostname()),
        reporting=Reporting(trial_lines=False),
    )
    return result.to_dict(), how.value
