"""Do two runs hold the same records, apart from times, memory and library versions?

    python benchmarks/same_records.py benchmarks/baselines/smoke.json results/benchmarks-smoke.json

For a change that must not change behaviour (a refactor, a faster path that claims
exact equivalence): every cell of the baseline must be in the candidate with the
same trials, hyperparameters, curves, scores and budgets. Prints one line per
differing cell and exits 1 if any differs, 2 on bad input, 0 if all are equal.
Needs no TensorFlow.
"""

from __future__ import annotations

import sys
from typing import Any

from hpo.errors import HpoError
from hpo.experiment.results import CellResult, load_results


def comparable(record: CellResult) -> dict[str, Any]:
    """The record as determinism promises it: without times, memory, versions, calibration."""
    data = record.without_times()
    data.pop("versions")
    return data


def differences(a: dict[str, Any], b: dict[str, Any], path: str = "") -> list[str]:
    """Where two records differ, as dotted paths (the first few)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}{k}: only in one" for k in sorted(a.keys() ^ b.keys())]
        for k in sorted(a.keys() & b.keys()):
            out += differences(a[k], b[k], f"{path}{k}.")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{path}{i}.")
        ]
    return [] if a == b else [f"{path.rstrip('.')}: {a!r} != {b!r}"]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        baseline, candidate = (load_results([p]).cells for p in argv)
    except HpoError as e:
        print(f"same_records: error: {e}", file=sys.stderr)
        return 2
    found = {c.id: c for c in candidate}
    differing = 0
    for cell in baseline:
        other = found.get(cell.id)
        if other is None:
            print(f"{cell.id.label}: not in {argv[1]}")
            differing += 1
            continue
        diff = differences(comparable(cell), comparable(other))
        if diff:
            differing += 1
            print(f"{cell.id.label}: {len(diff)} difference(s), first: {diff[0]}")
    print(f"{len(baseline) - differing} of {len(baseline)} records identical apart from times,"
          " memory and versions")  # fmt: skip
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
