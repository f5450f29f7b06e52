"""The cell record's schema and the one I/O seam: atomic JSON writes, checked reads, and
a benchmark JSON's trials kept beside it (`move_trials_aside`, `with_trials`)."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import tempfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from hpo.errors import HpoError
from hpo.experiment.profiles import DEFAULT_TASK, ENGINES, MAX_SEED, CellId
from hpo.experiment.records import Fault, ParetoPoint, ReplaySource, TaskInfo, TrialRecord

SCHEMA_VERSION = 1


@dataclass
class CellResult:
    """What one tuner x seed x profile search produced. Times are in seconds."""

    tuner: str
    seed: int
    profile: str
    best_val_accuracy: float | None  # None for a regression task, which has no accuracy
    best_val_loss: float
    test_accuracy: float | None
    test_loss: float
    wall_time_s: float
    trials_completed: int
    trials_failed: int
    epochs_trained: int
    best_hyperparameters: dict[str, Any]
    history: list[TrialRecord]
    n_train: int
    n_val: int
    n_test: int
    versions: dict[str, str] = field(default_factory=dict)
    calibration_s: float | None = None  # hpo.run.calibration on the same machine and session
    peak_rss_mb: float | None = None  # peak resident memory of the process during the search
    workers: int = 1  # Keras Tuner workers that shared the search (hpo.parallel.distributed)
    resumes: int = 0  # times the search was interrupted and resumed from its saved state
    faults: list[Fault] = field(default_factory=list)  # distributed workers that died
    task: str = DEFAULT_TASK
    # What trained the trials (hpo.experiment.profiles.ENGINES); older records used Keras fit.
    engine: str = "keras"
    test_r2: float | None = None  # a regression task's test score
    # The accuracy-versus-size front (hpo.analysis.pareto): per trial on it, its id, validation
    # objective, parameters and its best-epoch model's test score (accuracy, or R²).
    pareto: list[ParetoPoint] | None = None
    # A test score that is neither accuracy nor R² (a task's own metric or callable).
    test_value: float | None = None
    # What analysis needs to know of a user's task without its code (Task.info).
    task_info: TaskInfo | None = None
    # A search replayed against a table of real trainings (hpo.replay), not trained live.
    replay: ReplaySource | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def id(self) -> CellId:
        """Which cell this is the record of."""
        return CellId(self.tuner, self.seed, self.profile, self.task, self.engine)

    @property
    def test_score(self) -> float:
        """The task's test score: accuracy, R² for a regression task, or the task's own."""
        value = next(
            (v for v in (self.test_accuracy, self.test_r2, self.test_value) if v is not None), None
        )
        if value is None:
            raise HpoError(f"{self.id.label}: the record has no test score")
        return value

    def to_dict(self) -> dict[str, Any]:
        """The record's JSON (every field, nested parts by their own `to_dict`)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["history"] = [h.to_dict() for h in self.history]
        out["faults"] = [f.to_dict() for f in self.faults]
        out["pareto"] = None if self.pareto is None else [p.to_dict() for p in self.pareto]
        out["task_info"] = None if self.task_info is None else self.task_info.to_dict()
        out["replay"] = None if self.replay is None else self.replay.to_dict()
        out["best_hyperparameters"] = dict(self.best_hyperparameters)
        out["versions"] = dict(self.versions)
        return out

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
        for name, value in data.items():
            if name in _FIELD_CHECKS:
                check, wanted = _FIELD_CHECKS[name]
                if not check(value):
                    raise HpoError(f"{source}: field {name} must be {wanted}, got {_short(value)}")
        _check_scores(data, source)
        kept = {k: v for k, v in data.items() if k in names}
        parts: dict[str, Callable[[Any], Any]] = {
            "history": lambda x: [TrialRecord.from_dict(h) for h in x],
            "faults": lambda x: [Fault.from_dict(f) for f in x or []],
            "pareto": lambda x: None if x is None else [ParetoPoint.from_dict(p) for p in x],
            "task_info": lambda x: (
                None if x is None else TaskInfo.from_dict(x, str(data.get("task")))
            ),
            "replay": lambda x: None if x is None else ReplaySource.from_dict(x),
        }
        for name, convert in parts.items():
            if name in kept:
                try:
                    kept[name] = convert(kept[name])
                except HpoError as e:
                    raise HpoError(f"{source}: field {name}: {e}") from None
        return cls(**kept)

    def without_times(self) -> dict[str, Any]:
        """The record minus time, memory and interruptions: what determinism promises."""
        d = self.to_dict()
        for key in ("wall_time_s", "calibration_s", "peak_rss_mb", "resumes", "faults"):
            d.pop(key)
        d["history"] = [h.without_times() for h in self.history]
        return d


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _count(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _share(x: Any) -> bool:
    return _number(x) and 0 <= x <= 1


def _non_negative(x: Any) -> bool:
    return _number(x) and x >= 0


def trial_engines(cells: Sequence[CellResult]) -> list[str]:
    """The engines that trained the cells' trials: as each trial records it (the graph
    engine hands a model it does not accept to Keras' fit), else the cell's option."""
    return sorted({h.engine or c.engine for c in cells for h in c.history})


def _check_scores(data: dict[str, Any], source: str) -> None:
    """A record has a test score: accuracy (with its best validation accuracy) or, for a
    regression task, R² -- never neither."""
    if all(data.get(name) is None for name in ("test_accuracy", "test_r2", "test_value")):
        raise HpoError(
            f"{source}: field test_accuracy must be a number in [0, 1]"
            " (null only beside a regression task's test_r2 or a task's own test_value)"
        )
    if data.get("test_accuracy") is not None and data.get("best_val_accuracy") is None:
        raise HpoError(
            f"{source}: field best_val_accuracy must be a number in [0, 1] beside test_accuracy"
        )


_FIELD_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "tuner": (lambda x: isinstance(x, str) and x != "", "a tuner name"),
    "profile": (lambda x: isinstance(x, str) and x != "", "a profile name"),
    "task": (lambda x: isinstance(x, str) and x != "", "a task name"),
    "engine": (lambda x: x in ENGINES, f"one of {', '.join(ENGINES)}"),
    "seed": (lambda x: _count(x) and x <= MAX_SEED, f"an integer in [0, {MAX_SEED}]"),
    "best_val_accuracy": (lambda x: x is None or _share(x), "null or a number in [0, 1]"),
    "test_accuracy": (lambda x: x is None or _share(x), "null or a number in [0, 1]"),
    "test_r2": (lambda x: x is None or (_number(x) and x <= 1), "null or a number <= 1"),
    "test_value": (lambda x: x is None or _number(x), "null or a finite number"),
    "task_info": (lambda x: x is None or isinstance(x, dict), "null or an object"),
    "replay": (lambda x: x is None or isinstance(x, dict), "null or an object"),
    "pareto": (lambda x: x is None or isinstance(x, list), "null or a list"),
    "best_val_loss": (_non_negative, "a finite number >= 0"),
    "test_loss": (_non_negative, "a finite number >= 0"),
    "wall_time_s": (_non_negative, "a finite number >= 0"),
    "calibration_s": (lambda x: x is None or _non_negative(x), "null or a number >= 0"),
    "peak_rss_mb": (lambda x: x is None or _non_negative(x), "null or a number >= 0"),
    **{
        name: (_count, "an integer >= 0")
        for name in (
            "trials_completed",
            "trials_failed",
            "epochs_trained",
            "n_train",
            "n_val",
            "n_test",
            "resumes",
            "schema_version",
        )
    },
    "workers": (lambda x: _count(x) and x >= 1, "an integer >= 1"),
    "best_hyperparameters": (lambda x: isinstance(x, dict), "an object"),
    "versions": (lambda x: isinstance(x, dict), "an object"),
    "history": (
        lambda x: isinstance(x, list) and len(x) > 0,
        "a non-empty list of trials, each with val_accuracy, epochs and elapsed_s",
    ),
    "faults": (lambda x: isinstance(x, list), "a list"),
}


def _check_reference(b: Any, source: str) -> dict[str, Any]:
    if not (
        isinstance(b, dict)
        and _count(b.get("seed"))
        and _share(b.get("default_mlp"))
        and _share(b.get("logistic_regression"))
    ):
        raise HpoError(
            f"{source}: a reference entry must hold seed, default_mlp and logistic_regression, "
            f"got {_short(b)}"
        )
    return b


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` atomically: a reader sees the old file or the new, never half."""
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | os.PathLike[str], data: bytes, *, sync: bool = False) -> Path:
    """Write `data` atomically: a temporary file beside `path`, then renamed over it.

    `sync` also flushes it to disk before the rename (a table's chunks: minutes of
    training each); a trial log, rewritten twice per trial, is not synced.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise HpoError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
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


def write_json(path: str | os.PathLike[str], data: Any, *, indent: int | None = 2) -> Path:
    """Write `data` as JSON atomically (serialised first: bad data never touches the disk).

    `indent=None` writes one compact line with the json module's C encoder (an
    indented dump uses its pure-Python one): for state rewritten often.
    """
    text = json.dumps(data, indent=indent, sort_keys=True, allow_nan=False)
    return write_text(path, text + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file, raising HpoError (one line) if it is missing or corrupt."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise HpoError(f"{path}: no such file") from None
    except OSError as e:
        raise HpoError(f"{path}: cannot read: {e.strerror or e}") from None
    if not raw.strip():
        raise HpoError(f"{path}: empty file")
    try:
        return json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise HpoError(f"{path}: not valid JSON ({_short(str(e), 120)})") from None
    except RecursionError:
        raise HpoError(f"{path}: not usable JSON (nested too deeply)") from None


@dataclass
class Results:
    """Everything a comparison produced: cell records, untuned reference scores, stops.

    `stopped` lists cells that ended without a record (too many failed trials in
    a row): tuner, seed, profile and reason. `provenance` holds, per input file,
    when and where it was made (pytest-benchmark's datetime, machine_info and
    commit_info), for the report's provenance block.
    """

    cells: list[CellResult]
    references: list[dict[str, Any]] = field(default_factory=list)  # hpo.run.references, per seed
    stopped: list[dict[str, Any]] = field(default_factory=list)
    provenance: list[dict[str, Any]] = field(default_factory=list)


def _check_stopped(s: Any, source: str) -> dict[str, Any]:
    if not (
        isinstance(s, dict)
        and isinstance(s.get("tuner"), str)
        and _count(s.get("seed"))
        and isinstance(s.get("profile"), str)
        and isinstance(s.get("reason"), str)
    ):
        raise HpoError(
            f"{source}: a stopped cell must hold tuner, seed, profile and reason, got {_short(s)}"
        )
    return s


# A benchmark JSON's cell entry holds, instead of its record's `history`, where the trials are.
TRIALS_KEY = "trials_in"


def trials_file(json_path: str | os.PathLike[str]) -> Path:
    """Where a benchmark JSON's trials are kept: JSONSTEM.trials.jsonl.gz beside it."""
    path = Path(json_path)
    return path.with_name(f"{path.name.removesuffix('.json')}.trials.jsonl.gz")


def move_trials_aside(output_json: dict[str, Any], json_path: str | os.PathLike[str]) -> None:
    """Move every cell record's trials out of a benchmark JSON about to be written at
    `json_path` into `trials_file(json_path)`, one compact line per cell, each entry left
    naming its line and the file's SHA-256.

    A replayed cell's record is mostly its trials' per-epoch curves: a thousand seeds of
    four tuners inline made a 1.0 GB JSON, 250 kB a cell. pytest-benchmark reads the small
    JSON as it is; `load_results` reads the trials back. gzip level 1 with mtime 0: fast,
    and the same trials give the same bytes. Hand-written: pytest-benchmark keeps no side
    files. The entries are replaced, not edited: pytest-benchmark may share their dicts.
    """
    benches = [
        b
        for b in output_json.get("benchmarks", [])
        if isinstance(b.get("extra_info", {}).get("cell"), dict)
        and "history" in b["extra_info"]["cell"]
    ]
    if not benches:
        return
    lines = [
        json.dumps(b["extra_info"]["cell"]["history"], separators=(",", ":"), allow_nan=False)
        for b in benches
    ]
    data = gzip.compress("\n".join(lines).encode("utf-8") + b"\n", compresslevel=1, mtime=0)
    path = write_bytes(trials_file(json_path), data)
    digest = hashlib.sha256(data).hexdigest()
    for line, bench in enumerate(benches):
        cell = {k: v for k, v in bench["extra_info"]["cell"].items() if k != "history"}
        cell[TRIALS_KEY] = {"file": path.name, "sha256": digest, "line": line}
        bench["extra_info"] = {**bench["extra_info"], "cell": cell}


def with_trials(data: dict[str, Any], source: str | os.PathLike[str]) -> dict[str, Any]:
    """The benchmark JSON `data` read from `source`, each cell entry's trials read back from
    the file it names beside `source` (checked by its SHA-256). HpoError, one line, if that
    file is missing, changed or short. Entries holding their trials inline are kept."""
    read: dict[str, list[bytes]] = {}
    benchmarks = []
    for bench in data["benchmarks"]:
        extra = bench.get("extra_info") if isinstance(bench, dict) else None
        cell = extra.get("cell") if isinstance(extra, dict) else None
        if isinstance(extra, dict) and isinstance(cell, dict):
            bench = {
                **bench,
                "extra_info": {**extra, "cell": _cell_with_trials(cell, source, read)},
            }
        benchmarks.append(bench)
    return {**data, "benchmarks": benchmarks}


def _cell_with_trials(
    cell: dict[str, Any], source: str | os.PathLike[str], read: dict[str, list[bytes]]
) -> dict[str, Any]:
    """A benchmark JSON's cell entry with its trials, read from beside `source` if it names
    where they are (`read` holds each file's lines, each decoded only when asked for)."""
    if TRIALS_KEY not in cell:
        return cell
    line = _trials_line(cell[TRIALS_KEY], Path(source), read)
    try:
        history = json.loads(line)
    except ValueError as e:
        raise HpoError(
            f"{source}: a line of its trials file is not JSON ({_short(str(e))})"
        ) from None
    return {**{k: v for k, v in cell.items() if k != TRIALS_KEY}, "history": history}


def _trials_line(where: Any, source: Path, read: dict[str, list[bytes]]) -> bytes:
    """One cell's trials: line `where["line"]` of the file `where` names beside `source`."""
    if not (
        isinstance(where, dict)
        and isinstance(where.get("file"), str)
        and Path(where["file"]).name == where["file"]  # a name beside the JSON, not a path
        and isinstance(where.get("sha256"), str)
        and _count(where.get("line"))
    ):
        raise HpoError(f"{source}: a cell's {TRIALS_KEY} must name a file, sha256 and line")
    name = where["file"]
    if name not in read:
        path = source.with_name(name)
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise HpoError(
                f"{source}: its trials are in {path}, which cannot be read"
                f" ({e.strerror or e}): keep it beside the JSON"
            ) from None
        if hashlib.sha256(raw).hexdigest() != where["sha256"]:
            raise HpoError(
                f"{path} is not the trials file {source} was written with (its SHA-256 differs)"
            )
        try:
            read[name] = gzip.decompress(raw).splitlines()
        except (OSError, EOFError, zlib.error) as e:
            raise HpoError(f"{path}: not a trials file ({_short(str(e), 120)})") from None
    lines = read[name]
    if where["line"] >= len(lines):
        raise HpoError(f"{source}: line {where['line']} of {name} is past its {len(lines)} lines")
    return lines[where["line"]]


def _from_benchmark_json(data: dict[str, Any], source: str) -> Results:
    """The records a pytest-benchmark JSON holds in its benchmarks' extra_info (their trials
    read back from beside it, `with_trials`)."""
    out = Results(cells=[])
    read: dict[str, list[bytes]] = {}  # one cell's trials decoded at a time: memory stays flat
    for i, bench in enumerate(data["benchmarks"]):
        extra = bench.get("extra_info") if isinstance(bench, dict) else None
        where = f"{source}: benchmark #{i}"
        if isinstance(extra, dict) and isinstance(extra.get("cell"), dict):
            cell = _cell_with_trials(extra["cell"], source, read)
            out.cells.append(CellResult.from_dict(cell, where))
        elif isinstance(extra, dict) and "cell" in extra:
            out.cells.append(CellResult.from_dict(extra["cell"], where))
        elif isinstance(extra, dict) and ("reference" in extra or "baseline" in extra):
            # "baseline" is what files written before hpo 0.2 call the untuned references.
            entry = extra.get("reference", extra.get("baseline"))
            out.references.append(_check_reference(entry, where))
        elif isinstance(extra, dict) and "stopped" in extra:
            out.stopped.append(_check_stopped(extra["stopped"], where))
        else:
            raise HpoError(f"{where} has no cell record in extra_info")
    machine = data.get("machine_info")
    out.provenance.append(
        {
            "source": source,
            "datetime": data.get("datetime"),
            "hpo": machine.get("hpo") if isinstance(machine, dict) else None,
            "xdist_workers": len(machine.get("hpo_workers") or {}) or 1
            if isinstance(machine, dict)
            else None,
            "cluster": (machine.get("hpo") or {}).get("cluster")
            if isinstance(machine, dict) and isinstance(machine.get("hpo"), dict)
            else None,
            "commit": (data.get("commit_info") or {}).get("id")
            if isinstance(data.get("commit_info"), dict)
            else None,
        }
    )
    return out


def _expanded(paths: Iterable[str | os.PathLike[str]]) -> Iterable[str | os.PathLike[str]]:
    """`paths`, each folder replaced by its .json files (sorted); HpoError if it has none."""
    for path in paths:
        if Path(path).is_dir():
            found = sorted(Path(path).glob("*.json"))
            if not found:
                raise HpoError(f"{path}: a folder without .json records")
            yield from found
        else:
            yield path


def load_results(paths: Iterable[str | os.PathLike[str]]) -> Results:
    """Merge pytest-benchmark JSON files and `hpo run` record files.

    Shards of one comparison (say, seeds split across machines) merge into one
    Results; a cell or baseline that appears twice is an error. A folder stands for
    the .json files in it (`hpo run`'s --out folder).
    """
    merged = Results(cells=[])
    origin: dict[tuple[str, int, str, str, int], str] = {}
    paths = list(_expanded(paths))
    for path in paths:
        data = read_json(path)
        if isinstance(data, dict) and isinstance(data.get("benchmarks"), list):
            part = _from_benchmark_json(data, str(path))
        elif isinstance(data, dict) and data.keys() & {f.name for f in fields(CellResult)}:
            part = Results(cells=[CellResult.from_dict(data, str(path))])
            part.provenance.append({"source": str(path)})
        else:
            raise HpoError(f"{path}: neither a pytest-benchmark JSON nor an hpo cell record")
        for r in part.cells:
            # Two engines' records of one cell would be pooled as one tuner: cross-check
            # engines with `hpo compare` instead.
            key = (r.tuner, r.seed, r.profile, r.task, r.workers)
            if key in origin:
                where = str(path) if origin[key] == str(path) else f"{origin[key]} and {path}"
                raise HpoError(f"cell {r.id.label} appears twice ({where})")
            origin[key] = str(path)
        merged.cells.extend(part.cells)
        merged.references.extend(part.references)
        merged.stopped.extend(part.stopped)
        merged.provenance.extend(part.provenance)
    if not merged.cells:
        raise HpoError("no cell records in " + ", ".join(str(p) for p in paths))
    seeds = [b.get("seed") for b in merged.references]
    if len(seeds) != len(set(seeds)):
        raise HpoError("a reference seed appears twice")
    return merged


def load_records(paths: Iterable[str | os.PathLike[str]]) -> list[CellResult]:
    """The cell records of `load_results`."""
    return load_results(list(paths)).cells
