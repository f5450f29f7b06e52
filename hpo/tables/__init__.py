"""Tables of real trainings: every configuration of a finite grid of hpo's MLP space,
trained under several seeds for a profile's full epochs, every epoch's metrics stored
(a tabular benchmark, as NAS-Bench-201, LCBench or Syne Tune's blackbox repository).

A row of a table -- (configuration, training seed) -- is exactly what a live trial
with that seed trains on the graph engine, bit for bit, so a search can later be
replayed against the table in milliseconds: `Table.curve(index_of(config), seed,
metric)[epoch]` is what that trial logged at that epoch.

- `hpo.tables.grid`: `Grid`, the default `GRID` (1,053 configurations) and its order;
- `hpo.tables.table`: the file format and `Table` (load, look up);
- `hpo.tables.build`: `build_table` (resumable, parallel, deterministic);
- `hpo.tables.rows`: training one row as a live trial does (imports TensorFlow);
- `hpo.tables.cli`: `hpo tabulate`.

Importing this package imports no TensorFlow.
"""

from __future__ import annotations

from hpo.tables.build import BuildResult, build_table
from hpo.tables.grid import GRID, Grid
from hpo.tables.plan import TableSpec
from hpo.tables.table import Table

__all__ = ["GRID", "BuildResult", "Grid", "Table", "TableSpec", "build_table"]
