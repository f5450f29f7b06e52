"""Many seeds of several tuners replayed against one table, in one process, timed per tuner.

    python benchmarks/replay_seeds.py tables/breast_cancer-paper.npz \
        --tuners random,hyperband,tpe,sobol --seeds 0-999 --out results/replayed-bc

`--profile` replays a profile of at most the table's epochs (default: the table's);
`--workers K` shares each search among K simulated asynchronous workers. Writes each
cell's record (`hpo report` reads the folder) and prints, per tuner, the wall time of its
seeds, the trials replayed, and how that time splits into the oracle's own decisions
(create, update, end) and the replay harness's work.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hpo.errors import EXIT_BAD_INPUT, HpoError
from hpo.experiment.profiles import parse_seeds
from hpo.experiment.results import write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table")
    parser.add_argument("--tuners", default="random,hyperband,tpe,sobol")
    parser.add_argument("--seeds", default="0-999")
    parser.add_argument("--out", required=True)
    parser.add_argument("--profile", default=None, help="default: the table's")
    parser.add_argument(
        "--workers", type=int, default=1, help="simulated asynchronous workers (default: 1)"
    )
    args = parser.parse_args(argv)
    try:
        from hpo.tables.table import Table
        from hpo.tuners import parse_tuners

        table = Table.load(args.table)
        tuners, seeds = parse_tuners(args.tuners), parse_seeds(args.seeds)
        if args.workers < 1:
            raise HpoError(f"--workers must be at least 1, got {args.workers}")
    except HpoError as e:
        print(f"replay_seeds: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from hpo.replay.loop import ReplayTiming, replay_cell

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = Path(args.table).name
    for tuner in tuners:
        timing = ReplayTiming()
        started = time.perf_counter()
        for seed in seeds:
            record = replay_cell(
                table,
                tuner,
                seed,
                timing=timing,
                table_name=name,
                profile=args.profile,
                workers=args.workers,
            )
            suffix = f"-workers{args.workers}" if args.workers > 1 else ""
            write_json(out / f"{record.id.name}{suffix}.json", record.to_dict(), indent=None)
        wall = time.perf_counter() - started
        per_trial = 1000 * wall / max(timing.trials, 1)
        print(
            f"{tuner}: {len(seeds)} seeds in {wall:.1f} s ({len(seeds) / wall * 60:.0f} seeds"
            f" a minute), {timing.trials} trials, {per_trial:.2f} ms a trial: oracle"
            f" {1000 * timing.oracle_s / max(timing.trials, 1):.2f} ms, harness"
            f" {1000 * timing.harness_s / max(timing.trials, 1):.2f} ms",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
