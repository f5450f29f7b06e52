"""Do two runs hold the same records, apart from times, memory and library versions?

    python benchmarks/same_records.py benchmarks/baselines/smoke.json results/benchmarks-smoke.json

For a change that must not change behaviour (a refactor, a faster path that claims
exact equivalence): every cell of the baseline must be in the candidate, and every
field the baseline's record holds must hold the same value there: the same trials,
hyperparameters, curves, scores and budgets. A field the baseline does not hold
(one the record schema gained after the baseline was made) is listed, not judged.
Prints one line per differing cell and exits 1 if any differs, 2 on bad input, 0 if
all are equal. Needs no TensorFlow.
"""

from __future__ import annotations

import sys
from typing import Any

from hpo.errors import HpoError
from hpo.experiment.results import CellResult, read_json, with_trials

# What determinism does not promise (CellResult.without_times), and what code moves.
UNPROMISED = ("wall_time_s", "calibration_s", "peak_rss_mb", "resumes", "faults", "versions")
UNPROMISED_PER_TRIAL = ("elapsed_s", "rss_mb")


def records(path: str) -> dict[Any, dict[str, Any]]:
    """The raw records (as the file holds them: no defaults filled in) by cell, checked."""
    data = read_json(path)
    if isinstance(data, dict) and isinstance(data.get("benchmarks"), list):
        data = with_trials(data, path)  # the trials kept beside the JSON
    found = [b.get("extra_info", {}).get("cell") for b in data.get("benchmarks", [])]
    out = {}
    for raw in [r for r in found if isinstance(r, dict)] or [data]:
        out[CellResult.from_dict(raw, path).id] = raw
    return out


def comparable(raw: dict[str, Any]) -> dict[str, Any]:
    """The record as determinism promises it: without times, memory, versions, calibration."""
    data = {k: v for k, v in raw.items() if k not in UNPROMISED}
    data["history"] = [
        {k: v for k, v in h.items() if k not in UNPROMISED_PER_TRIAL} for h in raw["history"]
    ]
    return data


def differences(old: Any, new: Any, path: str = "") -> tuple[list[str], set[str]]:
    """Where `new` differs from `old` in what `old` holds, and the fields only `new` holds
    (as dotted paths, list positions as `[]`)."""
    if isinstance(old, dict) and isinstance(new, dict):
        diffs = [f"{path}{k}: missing" for k in sorted(old.keys() - new.keys())]
        added = {f"{path}{k}" for k in new.keys() - old.keys()}
        for k in sorted(old.keys() & new.keys()):
            d, a = differences(old[k], new[k], f"{path}{k}.")
            diffs += d
            added |= a
        return diffs, added
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        diffs, added = [], set()
        for i, (x, y) in enumerate(zip(old, new, strict=True)):
            d, a = differences(x, y, f"{path}{i}.")
            diffs += d
            added |= {_positionless(p) for p in a}
        return diffs, added
    return ([] if old == new else [f"{path.rstrip('.')}: {old!r} != {new!r}"]), set()


def _positionless(path: str) -> str:
    return ".".join("[]" if part.isdigit() else part for part in path.split("."))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        baseline, candidate = records(argv[0]), records(argv[1])
    except HpoError as e:
        print(f"same_records: error: {e}", file=sys.stderr)
        return 2
    differing, added = 0, set()
    for cell, raw in baseline.items():
        if cell not in candidate:
            print(f"{cell.label}: not in {argv[1]}")
            differing += 1
            continue
        diffs, new = differences(comparable(raw), comparable(candidate[cell]))
        added |= new
        if diffs:
            differing += 1
            print(f"{cell.label}: {len(diffs)} difference(s), first: {diffs[0]}")
    print(
        f"{len(baseline) - differing} of {len(baseline)} records identical in every field the"
        " baseline holds, apart from times, memory and versions"
        + (f"; fields the baseline does not hold: {', '.join(sorted(added))}" if added else "")
    )
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
