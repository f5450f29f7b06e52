"""How much a table's one split decides: two reports of the same tuners, on two splits.

    hpo tabulate --task mnist1d --profile quick --seeds 0-2 --split-seed 1 \
        --out tables/mnist1d-quick-split1.npz
    python benchmarks/replay_seeds.py tables/mnist1d-paper.npz --profile quick \
        --tuners random,tpe --seeds 0-999 --out results/split0 && hpo report results/split0
    python benchmarks/replay_seeds.py tables/mnist1d-quick-split1.npz \
        --tuners random,tpe --seeds 0-999 --out results/split1 && hpo report results/split1
    python benchmarks/split_sensitivity.py results/split0-report results/split1-report

(The committed paper table, split 0, replayed at `quick` looks up its rows'
first epochs: what a `quick` table of split 0 would hold.)

Prints both rankings of the tuners by mean test score, Kendall's tau between
them, and each pair's conclusion on either split, marked CHANGED where the
conclusion differs or a found difference reverses (`hpo.analysis.splits`).
Each argument is a report folder (or its summary.json).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hpo.analysis.splits import split_sensitivity, split_sensitivity_text
from hpo.errors import EXIT_BAD_INPUT, HpoError
from hpo.experiment.results import read_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", help="a report folder (hpo report's --out) or its summary.json")
    parser.add_argument("second", help="the same tuners' report on another split")
    args = parser.parse_args(argv)
    try:
        first, second = (_summary(Path(p)) for p in (args.first, args.second))
        said = split_sensitivity(first, second)
    except HpoError as e:
        print(f"split_sensitivity: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print("\n".join(split_sensitivity_text(said, (args.first, args.second))))
    return 0


def _summary(path: Path) -> dict:
    summary = read_json(path / "summary.json" if path.is_dir() else path)
    if not isinstance(summary, dict):
        raise HpoError(f"{path}: not a report's summary")
    return summary


if __name__ == "__main__":
    sys.exit(main())
