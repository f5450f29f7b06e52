"""What a table of a task's grid costs: rows a second per core, beside a live search's trials.

    python benchmarks/table_cost.py --task examples.signals:task \
        --grid examples/signals-grid.json --profile quick --rows 24

In this one process, with one TensorFlow thread (as a table's worker has): trains
`--rows` rows of the grid (configurations spread evenly over its order, seed 0) exactly
as `hpo tabulate` trains them, then runs a live random search of the same task on the
grid (`--trials` trials of the profile's epochs, the table's seed rule), and prints each
one's seconds a row (a trial), its seconds to build and a second per epoch, and the time
a whole table of the grid takes by the formula

    rows x (build + epochs x epoch) / workers     (rows = configurations x seeds)

with the build and epoch times measured here. Both sides pay Keras' first-epoch tracing
per model, which the epoch time includes.
"""

from __future__ import annotations

import argparse
import sys
import time

from hpo.errors import EXIT_BAD_INPUT, HpoError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, help="a task: built-in, or MODULE:ATTR")
    parser.add_argument("--grid", default=None, help="a grid file (hpo tabulate --grid)")
    parser.add_argument("--profile", default="quick", help="whose epochs (default: quick)")
    parser.add_argument("--rows", type=int, default=24, help="rows to train (default: 24)")
    parser.add_argument("--trials", type=int, default=10, help="live trials (default: 10)")
    parser.add_argument("--seeds", type=int, default=3, help="table seeds in the formula")
    parser.add_argument("--workers", type=int, default=2, help="workers in the formula")
    args = parser.parse_args(argv)
    from hpo.run.runtime import import_tensorflow_quietly, set_threads

    import_tensorflow_quietly()
    set_threads(1)
    try:
        grid, task, epochs = _grid(args)
        if args.rows < 1 or args.trials < 1:
            raise HpoError("--rows and --trials must be at least 1")
    except HpoError as e:
        print(f"table_cost: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from hpo.tables.rows import splits_of, train_row

    splits = splits_of(task.name, 0)
    configs = grid.configs()
    picks = [configs[round(i * (len(configs) - 1) / max(args.rows - 1, 1))] for i in
             range(args.rows)]  # fmt: skip
    builds, epoch_times, walls = [], [], []
    for k, config in enumerate(picks):
        started = time.perf_counter()
        row = train_row(k, config, 0, task, splits, epochs)
        walls.append(time.perf_counter() - started)
        builds.append(row.build_time_s)
        epoch_times.append(float(row.curves["epoch_time_s"].sum()))
    row_s = sum(walls) / len(walls)
    build_s = sum(builds) / len(builds)
    epoch_s = sum(epoch_times) / len(epoch_times) / epochs
    print(
        f"rows: {len(picks)} of {len(configs)} configurations, {epochs} epochs each:"
        f" {row_s:.2f} s a row ({1 / row_s:.3f} rows a second per core): build {build_s:.2f} s,"
        f" {epoch_s:.3f} s an epoch (training and validation), the rest (the test pass each"
        f" epoch, bookkeeping) {row_s - build_s - epochs * epoch_s:.2f} s"
    )
    trial_s = _live(task, grid, epochs, args.trials)
    print(
        f"live: a random search of {args.trials} trials on the grid: {trial_s:.2f} s a trial"
        f" ({trial_s / row_s:.2f} x a row)"
    )
    rows = len(configs) * args.seeds
    total = rows * row_s / args.workers
    print(
        f"a table of {len(configs)} configurations x {args.seeds} seeds = {rows:,} rows on"
        f" {args.workers} workers: about {rows:,} x {row_s:.2f} s / {args.workers} ="
        f" {total / 60:.0f} min"
    )
    return 0


def _grid(args: argparse.Namespace) -> tuple:
    from hpo.experiment.profiles import get_profile
    from hpo.experiment.results import read_json
    from hpo.experiment.tasks import get_task
    from hpo.tables.grid import GRID, Grid

    task = get_task(args.task)
    epochs = task.scaled_epochs(get_profile(args.profile).epochs)
    given = None if args.grid is None else read_json(args.grid)
    if task.searches_mlp:
        return (GRID if given is None else Grid.from_json(given, args.grid)), task, epochs
    from hpo.tables.space_grid import declared_space, grid_of_space

    return grid_of_space(declared_space(task), given, args.grid or "grid"), task, epochs


def _live(task, grid, epochs: int, trials: int) -> float:
    """Seconds a trial of a live random search of `trials` trials on the grid."""
    import dataclasses
    import functools

    import keras_tuner as kt

    from hpo.experiment.profiles import get_profile
    from hpo.replay.space import declare_grid, table_seed
    from hpo.run.cell import Cell, run_cell

    profile = dataclasses.replace(get_profile("quick"), epochs=epochs, max_trials=trials)
    cell = Cell.of("random", 0, "quick", task.name)
    cell = dataclasses.replace(cell, profile=profile)

    def build(hp: kt.HyperParameters):
        from hpo.engines.keras_fit import task_builder

        declare_grid(hp, grid)
        return task_builder(task)(hp)

    record = run_cell(cell, hypermodel=build, trial_seeds=functools.partial(table_seed, (0,)))
    return record.wall_time_s / max(1, len(record.history))  # the search, not its judging


if __name__ == "__main__":
    sys.exit(main())
