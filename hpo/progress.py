"""One line per finished trial, so a long search shows it is alive and where it stands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

# Called with the search's trial log after each trial ends (the last entry is new).
ProgressFn = Callable[[list[dict[str, Any]]], None]


def trial_printer(label: str, planned: int, stream: TextIO | None = None) -> ProgressFn:
    """A progress callback printing `label: trial i/planned ...` for each finished trial.

    The count and the best score come from the whole log, so a resumed search
    goes on counting from the trials it had finished before.
    """

    def show(history: list[dict[str, Any]]) -> None:
        entry = history[-1]
        scores = [h["val_accuracy"] for h in history if h["val_accuracy"] is not None]
        acc = entry["val_accuracy"]
        minutes, seconds = divmod(int(entry["elapsed_s"]), 60)
        acc_text = f"{acc:.3f}" if acc is not None else entry["status"].lower()
        best_text = f"{max(scores):.3f}" if scores else "-"
        error = f"  ({entry['error']})" if "error" in entry else ""
        print(
            f"{label}: trial {len(history)}/{planned}  val_acc {acc_text}  best {best_text}"
            f"  epochs {entry['epochs']}  {minutes:02d}:{seconds:02d}{error}",
            file=stream or sys.stderr,
            flush=True,
        )

    return show
