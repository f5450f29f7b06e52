"""One line per finished trial, so a long search shows it is alive and where it stands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

ProgressFn = Callable[[dict[str, Any]], None]


def trial_printer(label: str, planned: int, stream: TextIO | None = None) -> ProgressFn:
    """A progress callback printing `label: trial i/planned ...` for each finished trial."""
    state = {"done": 0, "best": None}

    def show(entry: dict[str, Any]) -> None:
        state["done"] += 1
        acc = entry["val_accuracy"]
        if acc is not None and (state["best"] is None or acc > state["best"]):
            state["best"] = acc
        minutes, seconds = divmod(int(entry["elapsed_s"]), 60)
        acc_text = f"{acc:.3f}" if acc is not None else entry["status"].lower()
        best_text = f"{state['best']:.3f}" if state["best"] is not None else "-"
        print(
            f"{label}: trial {state['done']}/{planned}  val_acc {acc_text}  best {best_text}"
            f"  epochs {entry['epochs']}  {minutes:02d}:{seconds:02d}",
            file=stream or sys.stderr,
            flush=True,
        )

    return show
