"""The I/O seam: atomic writes, one-line errors for missing or corrupt files."""

from __future__ import annotations

import gzip
import hashlib
import json
import os

import pytest

from hpo.errors import HpoError
from hpo.experiment.results import (
    TRIALS_KEY,
    CellResult,
    load_records,
    move_trials_aside,
    read_json,
    write_json,
)
from hpo.testing import made_up_record as make_record


def test_round_trip(tmp_path):
    r = CellResult.from_dict(make_record())
    path = write_json(tmp_path / "deep" / "r.json", r.to_dict())
    assert CellResult.from_dict(read_json(path)) == r


def test_failed_write_leaves_the_old_file_whole(tmp_path):
    path = write_json(tmp_path / "r.json", {"a": 1})
    with pytest.raises(ValueError):
        write_json(path, {"a": float("nan")})  # refused mid-write: NaN is not JSON
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["r.json"]  # no temp file left behind


def test_unwritable_folder_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(HpoError, match="cannot write"):
        write_json(blocker / "r.json", {})


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(HpoError, match="no such file"):
        read_json(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"benchmarks": [')
    with pytest.raises(HpoError, match="not valid JSON"):
        read_json(bad)


def test_record_without_fields_names_them(tmp_path):
    record = make_record()
    del record["test_accuracy"], record["history"]
    with pytest.raises(HpoError, match="history, test_accuracy"):
        CellResult.from_dict(record)


def test_load_records_from_benchmark_json_and_cell_files(tmp_path):
    bench = {"benchmarks": [{"extra_info": {"cell": make_record(seed=s)}} for s in (0, 1)]}
    write_json(tmp_path / "b.json", bench)
    write_json(tmp_path / "c.json", make_record(tuner="bayesian"))
    records = load_records([tmp_path / "b.json", tmp_path / "c.json"])
    assert [(r.tuner, r.seed) for r in records] == [("random", 0), ("random", 1), ("bayesian", 0)]


def test_overlapping_shards_are_refused(tmp_path):
    write_json(tmp_path / "a.json", make_record())
    with pytest.raises(HpoError, match="appears twice"):
        load_records([tmp_path / "a.json", tmp_path / "a.json"])


@pytest.mark.parametrize(
    "content, message",
    [
        ({"benchmarks": []}, "no cell records"),
        ({"benchmarks": [{"extra_info": {}}]}, "no cell record"),
        ([1, 2], "neither a pytest-benchmark JSON"),
        ({"machine_info": {}}, "neither a pytest-benchmark JSON"),
    ],
)
def test_files_that_are_not_results(tmp_path, content, message):
    write_json(tmp_path / "x.json", content)
    with pytest.raises(HpoError, match=message):
        load_records([tmp_path / "x.json"])


def test_files_from_before_the_rename_still_load_their_references(tmp_path):
    # hpo 0.1 stored the untuned reference models' scores under extra_info["baseline"].
    entry = {"seed": 0, "default_mlp": 0.5, "logistic_regression": 0.5}
    doc = {
        "benchmarks": [{"extra_info": {"cell": make_record()}}, {"extra_info": {"baseline": entry}}]
    }
    write_json(tmp_path / "old.json", doc)
    from hpo.experiment.results import load_results

    assert load_results([tmp_path / "old.json"]).references == [entry]


def test_records_older_than_engines_were_trained_by_keras_fit():
    record = CellResult.from_dict(make_record())
    assert record.engine == "keras" and record.id.name.endswith("-keras")
    assert CellResult.from_dict(make_record(engine="graph")).id.name == "random-smoke-seed0"


def test_an_unknown_engine_is_refused_by_name():
    with pytest.raises(HpoError, match="field engine must be one of graph, keras"):
        CellResult.from_dict(make_record(engine="jax"))


def test_two_engines_records_of_one_cell_are_not_pooled(tmp_path):
    write_json(tmp_path / "a.json", make_record(engine="graph"))
    write_json(tmp_path / "b.json", make_record(engine="keras"))
    with pytest.raises(HpoError, match=r"appears twice \(.*a.json and .*b.json\)"):
        load_records([tmp_path / "a.json", tmp_path / "b.json"])


def test_a_folder_stands_for_the_records_in_it(tmp_path):
    from hpo.experiment.results import load_results, write_json
    from hpo.testing import made_up_record

    for seed in (0, 1):
        write_json(tmp_path / f"r{seed}.json", made_up_record(seed=seed))
    assert sorted(c.seed for c in load_results([tmp_path]).cells) == [0, 1]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(HpoError, match="a folder without .json records"):
        load_results([empty])


def _big_history(trials: int = 90, epochs: int = 50) -> list[dict]:
    """A Hyperband search's trials at `paper` with their per-epoch curves: what made a
    replayed cell's entry 250 kB."""
    curve = [0.1 + i / 997 for i in range(epochs)]
    return [
        {"trial_id": f"{t:04d}", "status": "COMPLETED", "val_accuracy": 0.5 + t / 1000,
         "epochs": epochs, "elapsed_s": 0.5 * t, "hyperparameters": {"units_0": 32 + t},
         "curve": {"loss": curve, "val_loss": curve, "val_accuracy": curve}}
        for t in range(trials)
    ]  # fmt: skip


def _benchmark_json(records: list[dict]) -> dict:
    return {"benchmarks": [{"name": f"b{i}", "extra_info": {"cell": r}} for i, r in
                           enumerate(records)]}  # fmt: skip


def test_trials_moved_beside_the_json_read_back_as_they_were(tmp_path):
    records = [make_record(seed=s, history=_big_history()) for s in (0, 1)]
    doc = _benchmark_json(records)
    shared = doc["benchmarks"][0]["extra_info"]  # pytest-benchmark's own dict
    move_trials_aside(doc, tmp_path / "b.json")
    assert "history" in shared["cell"]  # replaced, not edited
    path = write_json(tmp_path / "b.json", doc, indent=4)
    entries = [b["extra_info"]["cell"] for b in read_json(path)["benchmarks"]]
    assert all("history" not in e and e[TRIALS_KEY]["file"] == "b.trials.jsonl.gz" for e in entries)
    assert [e[TRIALS_KEY]["line"] for e in entries] == [0, 1]
    assert len(json.dumps(doc["benchmarks"][0], indent=4)) < 10_000  # was over 400 kB inline
    back = load_records([path])
    assert [r.to_dict() for r in back] == [CellResult.from_dict(r).to_dict() for r in records]


def test_the_same_trials_give_the_same_trials_file(tmp_path):
    for name in ("a.json", "b.json"):
        move_trials_aside(_benchmark_json([make_record(history=_big_history(3))]), tmp_path / name)
    assert (tmp_path / "a.trials.jsonl.gz").read_bytes() == (
        tmp_path / "b.trials.jsonl.gz"
    ).read_bytes()


def test_a_json_without_records_writes_no_trials_file(tmp_path):
    move_trials_aside({"benchmarks": [{"extra_info": {"reference": {}}}]}, tmp_path / "b.json")
    assert list(tmp_path.iterdir()) == []


def _moved(tmp_path) -> tuple:
    doc = _benchmark_json([make_record(seed=s) for s in (0, 1)])
    move_trials_aside(doc, tmp_path / "b.json")
    return write_json(tmp_path / "b.json", doc), tmp_path / "b.trials.jsonl.gz", doc


def test_a_missing_or_changed_trials_file_is_one_line(tmp_path):
    path, trials, doc = _moved(tmp_path)
    trials.rename(tmp_path / "elsewhere.gz")
    with pytest.raises(HpoError, match=r"trials are in .*b\.trials\.jsonl\.gz.*beside the JSON"):
        load_records([path])
    (tmp_path / "elsewhere.gz").rename(trials)
    other = _benchmark_json([make_record(seed=5)])
    move_trials_aside(other, tmp_path / "b.json")  # another session's trials over them
    with pytest.raises(HpoError, match="not the trials file .* SHA-256 differs"):
        load_records([path])


@pytest.mark.parametrize(
    "where, message",
    [
        ({"file": "../b.trials.jsonl.gz", "sha256": "x", "line": 0}, "must name a file"),
        ({"file": "b.trials.jsonl.gz", "line": 0}, "must name a file"),
        ({"file": "b.trials.jsonl.gz", "sha256": None, "line": 9}, "past its 2 lines"),
    ],
)
def test_a_bad_reference_to_the_trials_is_one_line(tmp_path, where, message):
    path, trials, doc = _moved(tmp_path)
    if where.get("sha256", "") is None:
        where = {
            **where,
            "sha256": doc["benchmarks"][0]["extra_info"]["cell"][TRIALS_KEY]["sha256"],
        }
    doc["benchmarks"][0]["extra_info"]["cell"][TRIALS_KEY] = where
    write_json(path, doc)
    with pytest.raises(HpoError, match=message):
        load_records([path])


def test_a_corrupt_trials_file_is_one_line(tmp_path):
    path, trials, doc = _moved(tmp_path)
    trials.write_bytes(b"not gzip")
    for bench in doc["benchmarks"]:
        bench["extra_info"]["cell"][TRIALS_KEY]["sha256"] = hashlib.sha256(b"not gzip").hexdigest()
    write_json(path, doc)
    with pytest.raises(HpoError, match="not a trials file"):
        load_records([path])


def test_a_trials_line_that_is_not_json_is_one_line(tmp_path):
    path, trials, doc = _moved(tmp_path)
    data = gzip.compress(b"{not json\n{not json\n", mtime=0)
    trials.write_bytes(data)
    for bench in doc["benchmarks"]:
        bench["extra_info"]["cell"][TRIALS_KEY]["sha256"] = hashlib.sha256(data).hexdigest()
    write_json(path, doc)
    with pytest.raises(HpoError, match="a line of its trials file is not JSON"):
        load_records([path])
