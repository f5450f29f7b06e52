"""Where a cell runs, chosen once: in this process, in a fresh process, on a Dask cluster,
as Keras Tuner's chief and workers, or replayed from a table.

`get_runner(Placement(...))` checks the options that say where (one line, exit 2, for a
combination that cannot be) and returns one `Runner`, which the `hpo` command and the
pytest plugin then call for every cell alike: `runner.run(cell, record_path, options,
reporting)` -> (record, what was done). Nothing downstream branches on where again.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from hpo.errors import HpoError
from hpo.experiment.results import CellResult
from hpo.parallel.isolation import Reporting
from hpo.run.cell import Cell
from hpo.run.store import Outcome, RunOptions

if TYPE_CHECKING:
    from hpo.parallel.cluster import Cluster
    from hpo.tables.table import Table


class Runner(Protocol):
    """Runs a cell somewhere and keeps its record at `record_path` (reused, resumed or made)."""

    def run(
        self, cell: Cell, record_path: Path, options: RunOptions, reporting: Reporting
    ) -> tuple[CellResult, Outcome]: ...

    def describe(self, cell: Cell) -> str | None:
        """A line saying where the cell runs (None: nothing worth saying)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Placement:
    """The options that say where cells run, as the command line gave them.

    `replay`: a table's path (look trainings up); `cluster`: a Dask scheduler's address
    or local:N; `workers`: Keras Tuner workers around a chief oracle (more than 1), or a
    replay's simulated asynchronous workers;
    `isolate`: each cell in a fresh spawned process (a benchmark session), else in this
    one; `threads`: TensorFlow threads of such a process; `engine`: what trains.
    """

    replay: str | None = None
    cluster: str | None = None
    workers: int = 1
    isolate: bool = False
    threads: int | None = None
    engine: str = "graph"
    spelling: dict[str, str] = field(default_factory=dict)  # option -> as the user wrote it

    def option(self, name: str) -> str:
        """An option as the user spells it (`--workers` for hpo, `--hpo-...` for pytest)."""
        return self.spelling.get(name, f"--{name}")

    def check(self) -> None:
        """HpoError (one line) for options that cannot go together; nothing is started."""
        if self.workers < 1:
            raise HpoError(f"{self.option('workers')} must be at least 1, got {self.workers}")
        if self.replay is not None:
            given = [
                f"{self.option(name)} {value}"
                for name, value, default in (
                    ("cluster", self.cluster, None),
                    ("engine", self.engine, "graph"),
                )
                if value != default
            ]
            if given:
                raise HpoError(
                    f"{given[0]}: a replay looks trainings up (the table's graph engine), in"
                    f" this process ({self.option('replay')} {self.replay})"
                )
        if self.cluster is not None:
            from hpo.parallel.cluster import parse_cluster

            parse_cluster(self.cluster)
            if self.workers > 1:
                raise HpoError(f"{self.option('cluster')} and {self.option('workers')}: choose one")


def get_runner(where: Placement) -> Runner:
    """The runner `where` asks for; HpoError (one line) for options that cannot go together,
    or a table or cluster that cannot be used."""
    where.check()
    if where.replay is not None:
        from hpo.tables.table import Table

        return Replayed(Table.load(where.replay), where.workers)
    if where.cluster is not None:
        from hpo.parallel.cluster import Cluster, parse_cluster

        return OnCluster(Cluster(parse_cluster(where.cluster)))
    if where.workers > 1:
        return Distributed(where.workers)
    if where.isolate:
        return Isolated(where.threads)
    return InProcess()


@dataclass
class InProcess:
    """In this process (`hpo run`), its progress as the reporting asks: a live bar on a
    terminal, else a line per trial."""

    def run(
        self, cell: Cell, record_path: Path, options: RunOptions, reporting: Reporting
    ) -> tuple[CellResult, Outcome]:
        from hpo.run.progress import cell_bar, trial_printer
        from hpo.run.store import run_saved_cell

        progress, close = None, None
        if reporting.trial_lines and sys.stderr.isatty():  # epochs done of the plan, an ETA
            progress, close = cell_bar(cell.label, cell.budget.epochs)
        elif reporting.trial_lines:  # a log: a line per trial
            progress = trial_printer(cell.label, cell.budget)
        try:
            return run_saved_cell(cell, record_path, options, progress=progress)
        finally:
            if close is not None:
                close()

    def describe(self, cell: Cell) -> str | None:
        return None

    def close(self) -> None:
        pass


@dataclass
class Isolated:
    """In a fresh spawned process per cell (or per few, on the graph engine), which dies with
    this one: a benchmark session's default (`hpo.parallel.isolation`)."""

    threads: int | None = None

    def run(
        self, cell: Cell, record_path: Path, options: RunOptions, reporting: Reporting
    ) -> tuple[CellResult, Outcome]:
        from hpo.parallel.isolation import run_cell_isolated

        return run_cell_isolated(cell, record_path, options, self.threads, reporting)

    def describe(self, cell: Cell) -> str | None:
        return None

    def close(self) -> None:
        pass


@dataclass
class OnCluster:
    """As a task on a Dask cluster (`hpo.parallel.cluster`); the record folder is shared."""

    cluster: Cluster

    def submit(self, cells: list[tuple[Cell, Path]], options: RunOptions) -> None:
        """Start every cell a session will ask for, so they run while it waits for each."""
        self.cluster.submit(cells, options)

    def run(
        self, cell: Cell, record_path: Path, options: RunOptions, reporting: Reporting
    ) -> tuple[CellResult, Outcome]:
        return self.cluster.result(cell, record_path, options)

    def describe(self, cell: Cell) -> str | None:
        return f"{cell.label}: on the Dask cluster at {self.cluster.address.text}"

    def close(self) -> None:
        self.cluster.close()


@dataclass
class Distributed:
    """As Keras Tuner's chief oracle and `workers` workers on 127.0.0.1
    (`hpo.parallel.distributed`)."""

    workers: int

    def run(
        self, cell: Cell, record_path: Path, options: RunOptions, reporting: Reporting
    ) -> tuple[CellResult, Outcome]:
        from hpo.parallel.distributed import run_distributed
        from hpo.run.store import run_saved_cell

        quiet = not reporting.trial_lines
        return run_saved_cell(
            cell,
            record_path,
            options,
            search=lambda workdir: run_distributed(cell, self.workers, workdir, quiet=quiet),
        )

    def describe(self, cell: Cell) -> str | None:
        return f"{cell.label}: a chief oracle and {self.workers} workers on 127.0.0.1"

    def close(self) -> None:
        pass


@dataclass
class Replayed:
    """Looked up in a table of real trainings (`hpo.replay`), in this process: milliseconds.
    A replay is never reused or resumed: it is made again, as fast as reading it. With
    `workers` > 1, that many simulated asynchronous workers share each search."""

    table: Table
    workers: int = 1

    def run(
        self, cell: Cell, record_path: Path, options: RunOptions, reporting: Reporting
    ) -> tuple[CellResult, Outcome]:
        from hpo.experiment.results import write_json
        from hpo.replay import replay_cell

        record = replay_cell(
            self.table, cell.spec, cell.seed, profile=cell.profile.name, workers=self.workers
        )
        record.calibration_s = options.calibration_s
        # One compact line (the C encoder): 7 ms a MNIST-1D paper random cell against 13 ms.
        write_json(record_path, record.to_dict(), indent=None)
        return record, Outcome.RAN

    def describe(self, cell: Cell) -> str | None:
        return None

    def close(self) -> None:
        pass
