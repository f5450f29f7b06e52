"""A table of real trainings on disk (`.npz`), and `Table`: loading it and looking rows up.

One compressed NumPy archive (readable with `np.load(path)`, no pickle):

- per epoch, float32 arrays shaped (n_configs, n_seeds, epochs): `loss` and
  `accuracy` (training, as the epoch's logs report them), `val_loss`,
  `val_accuracy` (NaN for a regression task, whose validation score is
  `val_loss`: meta `objective` names which array a tuner reads), `test_loss`
  and `test_score` (accuracy, or R² for regression) of that epoch's weights on
  the test rows, and `epoch_time_s` (wall time of the epoch's training and
  validation, not of the test pass);
- `params` (n_configs,): trainable parameters of each configuration's model;
- `seeds` (n_seeds,): the training seeds (what `keras.utils.set_random_seed` got);
- `failed_at_epoch` (n_configs, n_seeds): the 0-based epoch whose loss became
  non-finite (that epoch's values are stored as logged, later ones are NaN;
  the live trial fails there), -1 if none;
- `trained` (n_configs, n_seeds): False for rows a partial build (`--limit`)
  did not train (all their values NaN);
- `build_time_s` (n_configs, n_seeds): seeding and building the model, per row;
- `meta`: a JSON string (provenance, the grid, the seeds, the table's hash).

Rows are indexed by (configuration index in `Grid.configs()` order, seed
index in `seeds`), epochs from 0. The table's `hash` is a SHA-256 of every
array except the timing ones (`epoch_time_s`, `build_time_s`) and `meta`:
the same grid, seeds, split and code give the same hash on any machine order
or worker count, and a replay cites it. The archive is written with fixed
member timestamps, so two builds of the same table differ only in the timing
arrays and meta's `build` section.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hpo.errors import HpoError
from hpo.experiment.results import write_bytes
from hpo.tables.grid import grid_from_json

FORMAT = "hpo-table"
FORMAT_VERSION = 1
# Per-epoch arrays, float32 (n_configs, n_seeds, epochs).
METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "test_loss", "test_score")
TIMING = ("epoch_time_s", "build_time_s")  # not hashed: they differ between builds
CURVES = (*METRICS, "epoch_time_s")  # what `Table.curve` reads
ROW_ARRAYS = ("failed_at_epoch", "trained", "build_time_s")  # (n_configs, n_seeds)
# What the hash covers, in this order.
HASHED = (*METRICS, "params", "seeds", "failed_at_epoch", "trained")
ARRAYS = (*CURVES, "params", "seeds", *ROW_ARRAYS)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # zip's epoch: no build's clock in the file


def table_hash(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of the hashed arrays: their names, dtypes, shapes and bytes."""
    digest = hashlib.sha256()
    for name in HASHED:
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A compressed .npz of `arrays` as bytes, the same bytes for the same arrays.

    What np.savez_compressed writes, except each member's timestamp, which
    NumPy sets to the clock (so two saves of the same arrays would differ).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            array = np.asarray(arrays[name])  # (np.ascontiguousarray would make a 0-d array 1-d)
            np.lib.format.write_array(member, array.copy(order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue(), compresslevel=6)
    return buffer.getvalue()


def read_npz(path: str | os.PathLike[str], what: str) -> dict[str, np.ndarray]:
    """Every array of an .npz file, or HpoError (one line) if it is missing or not one."""
    path = Path(path)
    if not path.exists():
        raise HpoError(f"{path}: no such file")
    if path.is_dir():
        raise HpoError(f"{path}: a folder, not {what}")
    try:
        if not zipfile.is_zipfile(path):
            raise ValueError("not an .npz archive")
        data = np.load(path, allow_pickle=False)
        try:
            return {name: data[name] for name in data.files}
        finally:
            data.close()
    except Exception as e:  # zipfile, format and OS errors alike: the file is not usable
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise HpoError(f"{path}: not {what} ({reason[:120]})") from None


def write_table(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray], meta: Any) -> Path:
    """Write a table atomically; `meta` gets the arrays' hash (returned in it too)."""
    meta["hash"] = table_hash(arrays)
    text = json.dumps(meta, sort_keys=True, allow_nan=False)
    return write_bytes(path, npz_bytes({**arrays, "meta": np.array(text)}), sync=True)


class Table:
    """A loaded table: its arrays, its meta, and lookups by configuration, seed and epoch.

    `curve(index_of(config), seed, "val_accuracy")[epoch]` is what a live trial
    of `config` seeded with `seed` logged at that epoch on the graph engine.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], meta: dict[str, Any], source: str) -> None:
        self.arrays = dict(arrays)
        for a in self.arrays.values():
            a.flags.writeable = False
        self.meta = meta
        self.source = source
        self.grid = grid_from_json(meta["grid"], f"{source}: its grid")
        self.seeds: list[int] = [int(s) for s in self.arrays["seeds"]]
        self.epochs = int(meta["epochs"])

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Table:
        """The table at `path`; HpoError (one line) if it is missing, corrupt or not a table."""
        source = str(path)
        arrays = read_npz(path, "an hpo table")
        missing = [name for name in (*ARRAYS, "meta") if name not in arrays]
        if missing:
            raise HpoError(f"{source}: not an hpo table (lacks {', '.join(missing)})")
        try:
            meta = json.loads(str(arrays.pop("meta")[()]))
        except (ValueError, TypeError) as e:
            raise HpoError(f"{source}: not an hpo table (meta is not JSON: {e})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise HpoError(f"{source}: not an hpo table (its meta names no {FORMAT!r} format)")
        if meta.get("format_version") != FORMAT_VERSION:
            raise HpoError(
                f"{source}: table format version {meta.get('format_version')!r}; this hpo reads"
                f" version {FORMAT_VERSION}"
            )
        for key in ("grid", "epochs", "hash", "task", "objective"):
            if key not in meta:
                raise HpoError(f"{source}: not an hpo table (its meta lacks {key!r})")
        table = cls(arrays, meta, source)
        table._check_shapes()
        if table_hash(arrays) != meta["hash"]:
            raise HpoError(f"{source}: corrupt table: its arrays do not match its hash")
        return table

    def _check_shapes(self) -> None:
        rows = (len(self.grid), len(self.seeds))
        wanted: dict[str, tuple[int, ...]] = {name: (*rows, self.epochs) for name in CURVES}
        wanted.update({name: rows for name in ROW_ARRAYS})
        wanted["params"] = (len(self.grid),)
        for name, shape in wanted.items():
            if self.arrays[name].shape != shape:
                raise HpoError(
                    f"{self.source}: corrupt table: {name} has shape {self.arrays[name].shape},"
                    f" its grid, seeds and epochs say {shape}"
                )

    @property
    def hash(self) -> str:
        """SHA-256 of the table's results (not its timings): what a replay cites."""
        return str(self.meta["hash"])

    @property
    def task(self) -> str:
        return str(self.meta["task"])

    @property
    def row_errors(self) -> dict[int, str]:
        """Why each row that could not be built or trained failed (its failed_at_epoch is
        `hpo.tables.plan.FAILED_TO_TRAIN`), by row number."""
        return {int(r): str(e) for r, e in (self.meta.get("row_errors") or {}).items()}

    @property
    def trainer(self) -> str:
        """What trained its rows: "graph" (hpo's MLP), or "keras" (a task's own models, by
        Keras' fit or their HyperModel's own)."""
        return str(self.meta.get("trainer", "graph"))

    @property
    def objective(self) -> str:
        """The curve a tuner optimises: `val_accuracy`, or `val_loss` for a regression task."""
        return str(self.meta["objective"])

    @property
    def partial(self) -> bool:
        """Whether some rows were not trained (a build with --limit)."""
        return not bool(self.arrays["trained"].all())

    def configs(self) -> list[dict[str, Any]]:
        """The configurations, by index (the grid's order)."""
        return self.grid.configs()

    def index_of(self, config: Mapping[str, Any]) -> int:
        """A configuration's index; HpoError if it is not in the table's grid."""
        return self.grid.index_of(config)

    def seed_index(self, seed: int) -> int:
        try:
            return self.seeds.index(int(seed))
        except (ValueError, TypeError):
            raise HpoError(
                f"training seed {seed!r} is not in the table {self.source} (seeds:"
                f" {_seed_list(self.seeds)})"
            ) from None

    def _row(self, config_index: int, seed: int) -> tuple[int, int]:
        if not isinstance(config_index, (int, np.integer)):
            raise HpoError(f"configuration index {config_index!r} is not an integer")
        self._row_index_ok(int(config_index))
        row = (int(config_index), self.seed_index(seed))
        if not self.arrays["trained"][row]:
            raise HpoError(
                f"configuration {config_index} with seed {seed} was not trained: {self.source} is"
                " a partial table (built with --limit); build it whole to look this row up"
            )
        return row

    def curve(self, config_index: int, seed: int, metric: str) -> np.ndarray:
        """A row's values of `metric` per epoch (read-only float32, length `epochs`).

        `metric`: one of `CURVES`, or "objective" for the task's objective.
        After a divergence (`failed_at`) the values are NaN.
        """
        name = self.objective if metric == "objective" else metric
        if name not in CURVES:
            raise HpoError(f"unknown metric {metric!r}; a table has {', '.join(CURVES)}")
        return self.arrays[name][self._row(config_index, seed)]

    def failed_at(self, config_index: int, seed: int) -> int | None:
        """The epoch (0-based) at which the row's loss became non-finite, or None."""
        epoch = int(self.arrays["failed_at_epoch"][self._row(config_index, seed)])
        return None if epoch < 0 else epoch

    def params(self, config_index: int) -> int:
        """Trainable parameters of the configuration's model."""
        self._row_index_ok(config_index)
        return int(self.arrays["params"][config_index])

    def _row_index_ok(self, config_index: int) -> None:
        if not 0 <= config_index < len(self.grid):
            raise HpoError(
                f"configuration index {config_index} is outside the table (0..{len(self.grid) - 1})"
            )


def _seed_list(seeds: list[int]) -> str:
    return ", ".join(map(str, seeds[:10])) + (", ..." if len(seeds) > 10 else "")
