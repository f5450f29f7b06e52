"""Live searches on a table's grid beside their replays: is a replay what a live run trains?

    python benchmarks/live_replay.py tables/mnist1d-paper.npz --profile quick \
        --tuners random,tpe,sobol,cmaes,gp,bayesian --seeds 0-2 --out results/live-replay

Each cell runs twice: live (`hpo.replay.live.run_live_on_grid`: Keras Tuner, the
graph engine, real training, the replay's seed rule, the table's split) and
replayed (`hpo.replay.replay_cell`). For a full-fidelity tuner the two records
must be the same apart from times and versions: every trial, every epoch's metrics
(==), the best model; its test loss and test scores (the Pareto set's too) equal to
1e-5, as they are evaluated live and tabulated per epoch in float32. Any difference is
printed and the exit status is 1. For a multi-fidelity tuner (Hyperband's reload of the best epoch
and fresh optimiser differ from a table's continued curve by design) the two
distributions are printed side by side, with the paired difference.

`--workers K` (K > 1) runs each cell live with K Keras Tuner workers around a chief
oracle (`hpo.parallel.distributed`, `--table`) and replays it on K simulated workers:
which trial ends first is the workers' real timing live and the table's recorded
times replayed, so every tuner is compared as distributions (test score, best
validation score, measured against simulated search time); live records are saved as
NAME-kK.json.

The live searches train with the TensorFlow threads the table's rows had (its meta's
`build.tf_threads`). Records go to OUT/live and OUT/replayed, which `hpo report` reads; a
live record already in OUT/live is reused (a long run goes on where it stopped; delete OUT
to run anew, and use one OUT per table). Every live record there trained on the table's
split (its `split_seed`), whatever its seed: it is the live twin of a replay, not a live
cell of the usual protocol.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hpo.errors import EXIT_BAD_INPUT, HpoError
from hpo.experiment.profiles import parse_seeds
from hpo.experiment.results import CellResult, read_json, write_json
from hpo.replay.live import first_difference, same_score

SEARCH_TIME = "search time s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table")
    parser.add_argument("--tuners", default="random,tpe")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--profile", default=None, help="default: the table's")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="K Keras Tuner workers live (distributed mode) against K simulated ones replayed",
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        from hpo.replay import check_table
        from hpo.tables.table import Table
        from hpo.tuners import parse_tuners

        table = Table.load(args.table)
        train_as_the_table_did(table)
        tuners, seeds = parse_tuners(args.tuners), parse_seeds(args.seeds)
        if args.workers < 1:
            raise HpoError(f"--workers must be at least 1, got {args.workers}")
        for tuner in tuners:
            check_table(table, tuner, seeds[0], args.profile)
        return _side_by_side(table, tuners, seeds, args)
    except HpoError as e:
        print(f"live_replay: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _side_by_side(table: Any, tuners: list[str], seeds: list[int], args: Any) -> int:
    """Each cell live and replayed, compared; 1 if a full-fidelity tuner's pair differs."""
    from hpo.parallel.distributed import run_distributed
    from hpo.replay import check_table, replay_cell
    from hpo.replay.live import run_live_on_grid
    from hpo.tuners import get_tuner

    out = Path(args.out)
    table_name = Path(args.table).name
    k = args.workers
    differing = 0
    for tuner in tuners:
        pairs: list[tuple[CellResult, CellResult]] = []
        exact = get_tuner(tuner).runner is None and k == 1
        for seed in seeds:
            replayed = replay_cell(
                table, tuner, seed, table_name=table_name, profile=args.profile, workers=k
            )
            live_path = out / "live" / f"{replayed.id.name}{f'-k{k}' if k > 1 else ''}.json"
            started = time.perf_counter()
            live = _saved_live(live_path, replayed)
            if live is None and k == 1:
                live = run_live_on_grid(table, tuner, seed, args.profile)
            elif live is None:
                cell = check_table(table, tuner, seed, args.profile)
                live = run_distributed(cell, k, quiet=True, table=args.table)
            if live_path.exists():
                took = "reused"
            else:
                write_json(live_path, live.to_dict(), indent=None)
                took = f"{time.perf_counter() - started:.1f} s"
            write_json(out / "replayed" / live_path.name, replayed.to_dict(), indent=None)
            pairs.append((live, replayed))
            if exact:
                diff = first_difference(live, replayed)
                differing += diff is not None
                verdict = "identical" if diff is None else f"DIFFERENT: {diff}"
            elif k > 1:
                verdict = f"{k} workers' timing decides the order (compared as distributions below)"
            else:
                verdict = "multi-fidelity (compared as distributions below)"
            score_name, live_score, *_ = scores(live)
            print(
                f"{tuner} seed={seed}: live {took}, {live.trials_completed} trials,"
                f" {score_name} {live_score:.4f}; replayed {scores(replayed)[1]:.4f}: {verdict}",
                flush=True,
            )
        if not exact:
            print(side_by_side(tuner, pairs), flush=True)
    return 1 if differing else 0


def _saved_live(path: Path, replayed: CellResult) -> CellResult | None:
    """The live twin an earlier run of this script saved for this cell, if any: a long run
    stopped part way goes on from its last finished cell (a record of another cell is an
    error)."""
    if not path.exists():
        return None
    live = CellResult.from_dict(read_json(path), str(path))
    if (live.id, live.workers) != (replayed.id, replayed.workers):
        raise HpoError(
            f"{path} holds the record of {live.id.label} on {live.workers} worker(s),"
            f" not of {replayed.id.label} on {replayed.workers}"
        )
    return live


def train_as_the_table_did(table: Any) -> None:
    """TensorFlow's threads as the table's rows had them (`OnGrid.threads`), set before
    anything runs."""
    from hpo.replay.live import OnGrid
    from hpo.run.runtime import import_tensorflow_quietly, set_threads

    threads = OnGrid(table).threads
    if threads:
        import_tensorflow_quietly()
        set_threads(threads)


def scores(record: CellResult) -> tuple[str, float, str, float]:
    """The test score and the best validation score, with their names, whatever the task."""
    test = next(
        (f, v)
        for f in ("test_accuracy", "test_r2", "test_value")
        if (v := getattr(record, f)) is not None
    )
    if record.best_val_accuracy is not None:
        return (*test, "best_val_accuracy", record.best_val_accuracy)
    return (*test, "best_val_loss", record.best_val_loss)


def side_by_side(tuner: str, pairs: list[tuple[CellResult, CellResult]]) -> str:
    """Live and replayed distributions of the test and best validation scores, paired by seed."""
    from scipy import stats

    lines = [f"{tuner}, {len(pairs)} seeds: live | replayed | paired live - replayed"]
    if len(pairs) < 2:
        return lines[0] + ": two seeds at least to compare distributions"
    test_name, _, val_name, _ = scores(pairs[0][0])
    figures: dict[str, Callable[[CellResult], float]] = {
        test_name: lambda r: float(scores(r)[1]),
        val_name: lambda r: float(scores(r)[3]),
        SEARCH_TIME: lambda r: r.wall_time_s,  # measured live, simulated from the table
    }
    for field, figure in figures.items():
        live = np.array([figure(p[0]) for p in pairs])
        replayed = np.array([figure(p[1]) for p in pairs])
        d = live - replayed
        if field != SEARCH_TIME:  # scores equal to their float noise are equal
            d[[same_score(a, b) for a, b in zip(live, replayed, strict=True)]] = 0.0
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
        p = stats.wilcoxon(d).pvalue if np.any(d != 0) else 1.0
        lines.append(
            f"  {field}: mean {live.mean():.4f} (sd {live.std(ddof=1):.4f}, median"
            f" {np.median(live):.4f}) | mean {replayed.mean():.4f} (sd"
            f" {replayed.std(ddof=1):.4f}, median {np.median(replayed):.4f}) |"
            f" {d.mean():+.4f} [95 % CI {d.mean() - half:+.4f}, {d.mean() + half:+.4f}],"
            f" Wilcoxon p {p:.3f}, equal on {int(np.sum(d == 0))} of {len(d)} seeds"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
