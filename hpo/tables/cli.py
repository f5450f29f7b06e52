"""`hpo tabulate`: build a table of real trainings from the command line.

`add_tabulate_parser(command)` declares the subcommand with the `command(name,
summary)` function of `hpo.cli.build_parser`; `run_tabulate(args)` runs it. Bad
input is an HpoError (one `hpo: error:` line, exit 2). Importing this module
imports no TensorFlow.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hpo.errors import HpoError
from hpo.experiment.profiles import DEFAULT_TASK, PROFILES, check_seed, get_profile, parse_seeds

SUMMARY = "train every configuration of a grid under several seeds: a table of real trainings"
TABULATE_EXAMPLES = """examples:
  hpo tabulate --profile smoke --limit 54 --out tables/look.npz   # a first look: seconds
  hpo tabulate                              # breast_cancer, paper: 1,053 configs x seeds 0-2
  hpo tabulate --task mnist1d --profile quick --seeds 0
  hpo tabulate --grid grid.json --cluster local:4   # {"units": [32, 64], "dropout": [0.0]}
  hpo tabulate --task examples.signals:task --grid examples/signals-grid.json --profile quick
"""
MAX_CONFIGS = 2_000  # above this many configurations a grid is refused (--max-configs)
DEFAULT_PROFILE = "paper"
DEFAULT_SEEDS = "0-2"


def add_tabulate_parser(
    command: Callable[[str, str], argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add `tabulate` with `command(name, summary)` (hpo.cli's); returns its parser."""
    from hpo.experiment.tasks import TASKS

    parser = command("tabulate", SUMMARY)
    parser.add_argument(
        "--task",
        default=DEFAULT_TASK,
        metavar="{" + ",".join(TASKS) + ",MODULE:ATTR}",
        help="a built-in task (hpo's MLP space), or MODULE:ATTR naming an hpo.Task: its own"
        f" model's space, read by building it (default: {DEFAULT_TASK})",
    )
    parser.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        choices=list(PROFILES),
        help=f"whose epochs every row trains (default: {DEFAULT_PROFILE})",
    )
    parser.add_argument(
        "--seeds",
        default=DEFAULT_SEEDS,
        help="training seeds, e.g. 0-2 or 0,5,7: each row is seeded as a live trial with that"
        f" trial seed (default: {DEFAULT_SEEDS})",
    )
    parser.add_argument(
        "--split-seed",
        default="0",
        help="seed of the one train/validation/test split every row uses (default: 0)",
    )
    parser.add_argument(
        "--grid",
        metavar="JSON",
        help="a JSON file of value lists. hpo's MLP: keys num_layers, units, activation,"
        " dropout, learning_rate (default: the default grid, 1,053 configurations). A task's"
        " own space: keys its hyperparameters' names; one left out takes every Choice or"
        " Boolean value, or 3 values of an Int or Float (minimum, middle, maximum, on its"
        " scale and step). A key left out keeps the default's values",
    )
    parser.add_argument(
        "--max-configs",
        type=int,
        default=MAX_CONFIGS,
        metavar="N",
        help=f"refuse a grid of more than N configurations (default: {MAX_CONFIGS:,})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes, one TensorFlow thread each; 1 trains in this process"
        " (default: this machine's cores)",
    )
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        default=None,
        help="train on a Dask cluster instead: its scheduler's address, or local:N",
    )
    parser.add_argument("--out", help="the table's path (default: tables/TASK-PROFILE.npz)")
    parser.add_argument(
        "--force",
        action="store_true",
        help="build anew: discard rows saved by an interrupted build and replace the table",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="train only the first N rows (row r: configuration r // seeds, seed r %% seeds);"
        " the table says it is partial, and a later build trains only what it lacks",
    )
    parser.set_defaults(func=run_tabulate)
    return parser


def run_tabulate(args: argparse.Namespace) -> int:
    from hpo.experiment.tasks import TASKS, get_task
    from hpo.tables.build import build_table, default_out, describe
    from hpo.tables.grid import GRID, Grid
    from hpo.tables.plan import TableSpec

    if args.task not in TASKS:  # a user's task module may import Keras: keep TF's lines out
        from hpo.run.runtime import import_tensorflow_quietly

        import_tensorflow_quietly()
    task = get_task(args.task)
    profile = get_profile(args.profile)
    seeds = parse_seeds(args.seeds)
    split_seed = _split_seed(args.split_seed)
    if args.max_configs < 1:
        raise HpoError(f"--max-configs must be at least 1, got {args.max_configs}")
    if args.cluster is not None:
        from hpo.parallel.cluster import parse_cluster

        parse_cluster(args.cluster)
        if args.workers is not None:
            raise HpoError("--cluster and --workers: choose one")
    workers = args.workers if args.workers is not None else _cores()
    if workers < 1:
        raise HpoError(f"--workers must be at least 1, got {workers}")
    if args.cluster is None and workers == 1:  # rows train here: one thread, set before the
        from hpo.tables.build import prepare_this_process  # space's discovery builds a model

        prepare_this_process(in_process=True)
    given = None
    if args.grid is not None:
        from hpo.experiment.results import read_json

        given = read_json(args.grid)
        if not isinstance(given, dict):
            raise HpoError(f"{args.grid}: a grid is a JSON object of value lists")
    grid: Any = GRID
    if task.searches_mlp and given is not None:
        grid = Grid.from_json(given, source=args.grid)
    elif not task.searches_mlp:
        from hpo.tables.space_grid import declared_space, grid_of_space

        grid = grid_of_space(declared_space(task), given, source=args.grid or "the grid")
    if task.objective not in ("val_accuracy", "val_loss"):
        raise HpoError(
            f"task {task.name!r}: a table keeps val_accuracy and val_loss per epoch; its"
            f" objective {task.objective} is not tabulated"
        )
    if len(grid) > args.max_configs:
        raise HpoError(
            f"the grid has {len(grid):,} configurations, over --max-configs {args.max_configs:,}"
            f" (values per hyperparameter: {grid.sizes()}); shrink it with --grid FILE, fewer"
            " values of the widest, or raise --max-configs"
        )
    if args.limit is not None and args.limit < 1:
        raise HpoError(f"--limit must be at least 1, got {args.limit}")
    out = Path(args.out) if args.out else default_out(task.name, profile.name)
    _check_writable(out)  # and so its sidecar OUT.parts/, beside it
    spec = TableSpec(
        task=task.name,
        profile=profile.name,
        epochs=task.scaled_epochs(profile.epochs),
        seeds=tuple(seeds),
        split_seed=split_seed,
        grid=grid,
    )
    result = build_table(
        spec,
        out,
        workers=workers,
        cluster=args.cluster,
        force=args.force,
        quiet=args.quiet,
        limit=args.limit,
    )
    print(describe(result))
    return 0


def _split_seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise HpoError(f"--split-seed must be an integer, got {text!r}") from None
    return check_seed(value)


def _check_writable(path: Path) -> None:
    """Fail before hours of training, not after, if `path` cannot be written."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise HpoError(f"cannot write {path}: {parent} is a file, not a folder")
            break
    if path.is_dir():
        raise HpoError(f"cannot write {path}: it is a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".hpo-check-"):
            pass
    except OSError as e:
        raise HpoError(f"cannot write {path}: {e.strerror or e}") from None


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":  # python -m hpo.tables.cli ...: the subcommand alone, for trying it
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _parser = argparse.ArgumentParser(prog="hpo")
    _sub = _parser.add_subparsers(dest="command", required=True)
    add_tabulate_parser(lambda name, summary: _sub.add_parser(name, help=summary))
    _args = _parser.parse_args()
    try:
        sys.exit(run_tabulate(_args))
    except HpoError as _e:
        print(f"hpo: error: {_e}", file=sys.stderr)
        sys.exit(2)
