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
    calibration_s: float | None = None  # hpo.calibration on the same machine and session
    peak_rss_mb: float | None = None  # peak resident memory of the process during the search
    workers: int = 1  # Keras Tuner workers that shared the search (hpo.distributed)
    resumes: int = 0  # times the search was interrupted and resumed from its saved state
    faults: list[dict[str, Any]] = field(default_factory=list)  # distributed workers that died
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
        """The record minus time, memory and interruptions: what determinism promises."""
        d = self.to_dict()
        for key in ("wall_time_s", "calibration_s", "peak_rss_mb", "resumes", "faults"):
            d.pop(key)
        d["history"] = [
            {k: v for k, v in h.items() if k not in ("elapsed_s", "rss_mb")} for h in d["history"]
        ]
        return d


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` atomically: a reader sees the old file or the new, never half."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise HpoError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from others
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write `data` as JSON atomically (serialised first: bad data never touches the disk)."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n")


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


@dataclass
class Results:
    """Everything a comparison produced: cell records and per-seed baseline scores."""

    cells: list[CellResult]
    baselines: list[dict[str, Any]] = field(default_factory=list)


def _from_benchmark_json(data: dict[str, Any], source: str) -> Results:
    """The records a pytest-benchmark JSON holds in its benchmarks' extra_info."""
    out = Results(cells=[])
    for i, bench in enumerate(data["benchmarks"]):
        extra = bench.get("extra_info") if isinstance(bench, dict) else None
        if isinstance(extra, dict) and "cell" in extra:
            out.cells.append(CellResult.from_dict(extra["cell"], f"{source}: benchmark #{i}"))
        elif isinstance(extra, dict) and isinstance(extra.get("baseline"), dict):
            out.baselines.append(extra["baseline"])
        else:
            raise HpoError(f"{source}: benchmark #{i} has no cell record in extra_info")
    return out


def load_results(paths: Iterable[str | os.PathLike[str]]) -> Results:
    """Merge pytest-benchmark JSON files and `hpo run` record files.

    Shards of one comparison (say, seeds split across machines) merge into one
    Results; a cell or baseline that appears twice is an error.
    """
    merged = Results(cells=[])
    for path in paths:
        data = read_json(path)
        if isinstance(data, dict) and isinstance(data.get("benchmarks"), list):
            part = _from_benchmark_json(data, str(path))
        elif isinstance(data, dict) and "tuner" in data:
            part = Results(cells=[CellResult.from_dict(data, str(path))])
        else:
            raise HpoError(f"{path}: neither a pytest-benchmark JSON nor an hpo cell record")
        merged.cells.extend(part.cells)
        merged.baselines.extend(part.baselines)
    if not merged.cells:
        raise HpoError("no cell records in " + ", ".join(str(p) for p in paths))
    seen: set[tuple[str, int, str]] = set()
    for r in merged.cells:
        key = (r.tuner, r.seed, r.profile)
        if key in seen:
            raise HpoError(f"cell {r.tuner} seed={r.seed} profile={r.profile} appears twice")
        seen.add(key)
    seeds = [b.get("seed") for b in merged.baselines]
    if len(seeds) != len(set(seeds)):
        raise HpoError("a baseline seed appears twice")
    return merged


def load_records(paths: Iterable[str | os.PathLike[str]]) -> list[CellResult]:
    """The cell records of `load_results`."""
    return load_results(list(paths)).cells
