"""Progress of long work: trial lines, a cell's bar, a session's live lines with an ETA.

A search reports after each trial with its whole log (`ProgressFn`). What is
shown depends on where: plain lines per trial (a log, or `-v`), a rich bar of
epochs done against the cell's plan (`hpo run` on a terminal), or a small
status file per running cell that a benchmark session's display reads.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from hpo.experiment.records import TrialRecord
from hpo.tuners import Budget

# Called with the search's trial log after each trial ends (the last entry is new).
ProgressFn = Callable[[list[TrialRecord]], None]


def trial_printer(label: str, planned: Budget, stream: TextIO | None = None) -> ProgressFn:
    """A progress callback printing `label: trial i/planned ... ETA mm:ss` for each finished trial.

    The count, the best score and the epochs done come from the whole log, so a resumed
    search goes on counting from the trials it had finished before; the ETA is the search's
    pace so far over the planned epochs still to train (a log has no live bar).
    """

    def show(history: list[TrialRecord]) -> None:
        entry = history[-1]
        name, best = _best(history)
        acc = entry.score
        elapsed = entry.elapsed_s
        done = sum(h.epochs for h in history)
        acc_text = f"{acc:.3f}" if acc is not None else entry.status.lower()
        best_text = f"{best:.3f}" if best is not None else "-"
        left = planned.epochs - done
        eta = f"  ETA {_clock(elapsed * left / done)}" if done and left > 0 else ""
        error = f"  ({entry.error})" if entry.error is not None else ""
        print(
            f"{label}: trial {len(history)}/{planned.trials}  {name} {acc_text}  best {best_text}"
            f"  epochs {entry.epochs}  {_clock(elapsed)}{eta}{error}",
            file=stream or sys.stderr,
            flush=True,
        )

    return show


def _best(history: list[TrialRecord]) -> tuple[str, float | None]:
    """The score's name and the best so far: the highest val_acc, or the lowest loss for a
    task whose objective is a loss (its entries hold `score`)."""
    scores = [h.score for h in history if h.score is not None]
    loss = any(not h.on_accuracy for h in history)
    best = (min(scores) if loss else max(scores)) if scores else None
    return ("val_loss" if loss else "val_acc"), best


def combine(*callbacks: ProgressFn | None) -> ProgressFn | None:
    """One callback calling each given one (None if none is given)."""
    given = [c for c in callbacks if c is not None]
    if not given:
        return None

    def call(history: list[TrialRecord]) -> None:
        for c in given:
            c(history)

    return call


def status_writer(path: str | os.PathLike[str], label: str, planned_epochs: int) -> ProgressFn:
    """A callback keeping `path` (JSON) at the cell's epochs done, for a session's display."""
    from hpo.experiment.results import write_json

    def write(history: list[TrialRecord]) -> None:
        write_json(
            path,
            {
                "label": label,
                "epochs": sum(h.epochs for h in history),
                "planned_epochs": planned_epochs,
                "trials": len(history),
                "elapsed_s": history[-1].elapsed_s,
                "pid": os.getpid(),
            },
        )

    return write


def cell_bar(label: str, planned_epochs: int) -> tuple[ProgressFn, Callable[[], None]]:
    """A rich bar of epochs done against the plan, with an ETA; returns (callback, close)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("epochs"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[best]}"),
        transient=False,
    )
    task = bar.add_task(label, total=planned_epochs, best="")
    bar.start()

    def update(history: list[TrialRecord]) -> None:
        name, value = _best(history)
        best = f"best {name} {value:.3f}" if value is not None else ""
        bar.update(task, completed=sum(h.epochs for h in history), best=best)

    return update, bar.stop


@dataclass
class SessionState:
    """What a benchmark session knows of its cells: planned, finished, and running now."""

    cells_total: int
    epochs_total: int | None = None  # planned epochs of every cell (None until computed)
    cells_done: int = 0
    epochs_done: int = 0  # by finished cells
    epochs_reused: int = 0  # by cells whose record was reused (no work this session)
    started: float = 0.0

    def finish(self, epochs: int, reused: bool) -> None:
        self.cells_done += 1
        self.epochs_done += epochs
        if reused:
            self.epochs_reused += epochs

    def line(self, running_epochs: int = 0) -> str:
        """`cells 12/30 · epochs 4,500/12,000 · 05:12 · ETA 08:40` (ETA at this session's pace)."""
        elapsed = time.monotonic() - self.started
        done = self.epochs_done + running_epochs
        text = f"cells {self.cells_done}/{self.cells_total}"
        if self.epochs_total:
            text += f" · epochs {done:,}/{self.epochs_total:,}"
        text += f" · {_clock(elapsed)}"
        worked = done - self.epochs_reused
        left = (self.epochs_total or 0) - done
        if self.epochs_total and worked > 0 and left >= 0:
            text += f" · ETA {_clock(elapsed * left / worked)}"
        return text


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def read_statuses(folder: Path) -> list[dict[str, Any]]:
    """The status files of cells running now (written by `status_writer`)."""
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # being replaced this instant, or gone
    return out


class SessionDisplay:
    """Live lines on a terminal: the session line, then one per running cell (rich)."""

    def __init__(self, state: SessionState, status_dir: Path) -> None:
        from rich.console import Console

        self.state = state
        self.status_dir = status_dir
        # Made here, on a terminal: rich decides once whether its file is one, and stderr
        # may later be redirected for a moment (hpo.run.runtime.import_tensorflow_quietly).
        self.console = Console(file=sys.stderr, force_terminal=True)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _render(self) -> Any:
        from rich.text import Text

        running = read_statuses(self.status_dir)
        lines: Sequence[str] = [
            self.state.line(sum(r["epochs"] for r in running)),
            *(
                f"  {r['label']}: epochs {r['epochs']}/{r['planned_epochs']},"
                f" trial {r['trials']}, {_clock(r['elapsed_s'])}"
                for r in running
            ),
        ]
        return Text("\n".join(lines))

    def _run(self) -> None:
        from rich.live import Live

        with Live(self._render(), console=self.console, transient=True) as live:
            while not self._stop.wait(1.0):
                live.update(self._render())
