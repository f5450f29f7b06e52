"""The cell record's schema and the one I/O seam: atomic JSON writes, checked reads."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from hpo.errors import HpoError

SCHEMA_VERSION = 1


@dataclass
class CellResult:
    """What one tuner x seed x profile search produced. Times are in seconds."""

    tuner: str
    seed: int
    profile: str
    best_val_accuracy: float
    best_val_loss: float
    test_accuracy: float
    test_loss: float
    wall_time_s: float
    trials_completed: int
    trials_failed: int
    epochs_trained: int
    best_hyperparameters: dict[str, Any]
    history: list[dict[str, Any]]
    n_train: int
    n_val: int
    n_test: int
    versions: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: str = "record") -> CellResult:
        """Build from a dict, raising HpoError that names the missing fields."""
        if not isinstance(data, dict):
            raise HpoError(
                f"{source}: expected a cell record (an object), got {type(data).__name__}"
            )
        names = {f.name for f in fields(cls)}
        required = {
            f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
        }
        missing = sorted(required - data.keys())
        if missing:
            raise HpoError(f"{source}: cell record lacks field(s) {', '.join(missing)}")
        return cls(**{k: v for k, v in data.items() if k in names})

    def without_times(self) -> dict[str, Any]:
        """The record minus everything that measures time: what determinism promises."""
        d = self.to_dict()
        d.pop("wall_time_s")
        d["history"] = [{k: v for k, v in h.items() if k != "elapsed_s"} for h in d["history"]]
        return d


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write `data` as JSON atomically: a reader sees the old file or the new, never half."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise HpoError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True, allow_nan=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file, raising HpoError (one line) if it is missing or corrupt."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HpoError(f"{path}: no such file") from None
    except OSError as e:
        raise HpoError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise HpoError(f"{path}: not valid JSON ({e})") from None


def records_from_benchmark_json(data: Any, source: str) -> list[CellResult]:
    """The cell records a pytest-benchmark JSON holds in each benchmark's extra_info."""
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise HpoError(f"{source}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    records = []
    for i, bench in enumerate(data["benchmarks"]):
        extra = bench.get("extra_info") if isinstance(bench, dict) else None
        if not isinstance(extra, dict) or "cell" not in extra:
            raise HpoError(f"{source}: benchmark #{i} has no cell record in extra_info")
        records.append(CellResult.from_dict(extra["cell"], f"{source}: benchmark #{i}"))
    if not records:
        raise HpoError(f"{source}: holds no benchmarks")
    return records


def load_records(paths: Iterable[str | os.PathLike[str]]) -> list[CellResult]:
    """Records from pytest-benchmark JSON files or `hpo run --json` files, merged.

    A (tuner, seed, profile) cell that appears twice is an error: shards of one
    comparison must not overlap.
    """
    records: list[CellResult] = []
    for path in paths:
        data = read_json(path)
        if isinstance(data, dict) and "benchmarks" in data:
            records.extend(records_from_benchmark_json(data, str(path)))
        elif isinstance(data, dict) and "tuner" in data:
            records.append(CellResult.from_dict(data, str(path)))
        else:
            raise HpoError(f"{path}: neither a pytest-benchmark JSON nor an hpo cell record")
    seen: set[tuple[str, int, str]] = set()
    for r in records:
        key = (r.tuner, r.seed, r.profile)
        if key in seen:
            raise HpoError(f"cell {r.tuner} seed={r.seed} profile={r.profile} appears twice")
        seen.add(key)
    return records
