"""Arbitrary input to every parser and reader: a valid value or one line naming the problem.

Hypothesis feeds arbitrary text to the seed and tuner parsers, arbitrary bytes
and arbitrary JSON to the result-file reader (alone and through `hpo report`
and `hpo compare`), and single corrupted fields to otherwise valid records.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpo.cli import main
from hpo.errors import HpoError
from hpo.experiment.profiles import MAX_SEED, MAX_SEEDS, parse_seeds
from hpo.experiment.results import CellResult, Results, load_results
from hpo.testing import made_up_record as make_record
from hpo.tuners import parse_tuners, tuner_names
from tests.helpers import error_lines

TUNER_NAMES = tuner_names()

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
SEEDISH = st.text(alphabet="0123456789-, x.+", max_size=20) | st.text(max_size=20)


def _one_line(e: HpoError) -> None:
    assert str(e) and "\n" not in str(e)


@given(SEEDISH)
def test_seed_lists_parse_or_fail_in_one_line(text):
    try:
        seeds = parse_seeds(text)
    except HpoError as e:
        _one_line(e)
        return
    assert seeds == sorted(set(seeds)) and 0 < len(seeds) <= MAX_SEEDS
    assert all(isinstance(s, int) and 0 <= s <= MAX_SEED for s in seeds)


@given(
    st.text(max_size=40) | st.lists(st.sampled_from([*TUNER_NAMES, "smac", " ", ""])).map(",".join)
)
def test_tuner_lists_parse_or_fail_in_one_line(text):
    try:
        names = parse_tuners(text)
    except HpoError as e:
        _one_line(e)
        return
    assert names and set(names) <= set(TUNER_NAMES) and len(names) == len(set(names))


@pytest.mark.parametrize(
    "text, message",
    [
        ("-1", "is not N or N-M"),
        ("1.5", "is not N or N-M"),
        ("٣", "is not N or N-M"),  # a digit, but not an ASCII one
        ("", "no seeds"),
        (" , ", "no seeds"),
        ("5-2", "not an ascending range"),
        (f"0-{MAX_SEED + 1}", "seeds go up to"),
        ("0-99999999", "more than 10000 seeds"),
    ],
)
def test_bad_seed_lists_name_their_problem(text, message):
    with pytest.raises(HpoError, match=message):
        parse_seeds(text)


def _load(payload: bytes) -> Results | HpoError:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.json"
        path.write_bytes(payload)
        try:
            return load_results([path])
        except HpoError as e:
            _one_line(e)
            return e


@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_records_or_one_line(payload):
    _load(payload)


@given(JSON)
def test_arbitrary_json_gives_records_or_one_line(value):
    payload = json.dumps(value).encode()
    loaded = _load(payload)
    if isinstance(loaded, Results):
        assert all(isinstance(c, CellResult) for c in loaded.cells)


@given(st.sampled_from(sorted(make_record())), JSON)
def test_a_corrupted_field_is_refused_by_name_or_is_harmless(name, value):
    record = make_record(**{name: value})
    loaded = _load(json.dumps(record).encode())
    if isinstance(loaded, HpoError):
        assert name in str(loaded)
        return
    [cell] = loaded.cells  # accepted: it must be usable as a record
    assert cell.test_accuracy is not None or cell.test_r2 is not None
    assert cell.test_score <= 1 and math.isfinite(cell.wall_time_s)
    assert isinstance(cell.history, list) and cell.history


@given(st.sampled_from(sorted(make_record())))
def test_a_missing_field_is_named(name):
    record = make_record()
    del record[name]
    loaded = _load(json.dumps(record).encode())
    assert isinstance(loaded, HpoError) and name in str(loaded)


def test_truncated_record_at_every_length_is_one_line():
    payload = json.dumps(make_record()).encode()
    for n in range(len(payload)):
        assert isinstance(_load(payload[:n]), HpoError)


@settings(max_examples=25)
@given(st.binary(max_size=100) | JSON.map(lambda v: json.dumps(v).encode()))
def test_report_and_compare_on_garbage_exit_2_in_one_line(payload):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "garbage.json"
        path.write_bytes(payload)
        for argv in (["report", str(path), "--out", str(Path(tmp) / "r")],
                     ["compare", str(path), str(path)]):  # fmt: skip
            err = _run_main(argv)
            if err is not None:
                assert err[0] == 2 and len(error_lines(err[1])) == 1, err
                assert not (Path(tmp) / "r" / "summary.json").exists()


def _run_main(argv: list[str]) -> tuple[int, str] | None:
    """Exit code and stderr of `hpo argv`, or None if it succeeded."""
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as e:
            code = int(e.code or 0)
    return None if code == 0 else (code, err.getvalue())


BAD_PYTEST_OPTIONS = [
    ("--hpo-seeds=-1", "bad seed list '-1'"),
    ("--hpo-seeds=", "no seeds"),
    ("--hpo-seeds=2.5", "is not N or N-M"),
    ("--hpo-tuners=smac", "unknown tuner 'smac'"),
    ("--hpo-tuners=,", "no tuners"),
    ("--hpo-tasks=iris", "unknown task 'iris'; choose one of breast_cancer, wine"),
    ("--hpo-tasks=,", "no task named"),
    ("--hpo-tasks=tests.user_tasks:nan_features", "features hold 1 NaN or infinite value(s)"),
    ("--hpo-tasks=tests.user_tasks:no_such", "has no attribute 'no_such'"),
    ("--hpo-profile=huge", "unknown profile 'huge'"),
    ("--hpo-min-speedup=0", "--hpo-min-speedup must be a positive number"),
    ("--hpo-min-speedup=fast", "--hpo-min-speedup must be a positive number"),
    ("--hpo-smallest-effect=0", "--hpo-smallest-effect must be a positive number"),
    ("--hpo-smallest-effect=nan", "--hpo-smallest-effect must be a positive number"),
    ("--hpo-max-rss-mb=-1", "--hpo-max-rss-mb must be a positive number"),
    ("--hpo-min-search-speedup=0", "--hpo-min-search-speedup must be a positive number"),
    ("--hpo-engine=jax", "unknown engine 'jax'"),
    ("--hpo-mlflow=mlruns", "MLflow keeps runs in a database or on a server"),
    ("--hpo-cluster=local:0", "a local cluster needs at least 1 worker"),
    ("--hpo-cluster=localhost 8786", "bad cluster 'localhost 8786'"),
]


@pytest.mark.parametrize("option, message", BAD_PYTEST_OPTIONS)
def test_bad_benchmark_options_exit_2_in_one_line(option, message, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks", option,
         "--benchmark-json", str(tmp_path / "b.json")],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[1], env=env,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in lines[0]
    assert not (tmp_path / "b.json").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tuner", "random", "--seed", "0", "--workers", "0"], "--workers must be at least 1"),
        (["--tuner", "random", "--seed", "1e3"], "seed must be an integer"),
        (["--tuner", "", "--seed", "0"], "unknown tuner ''"),
        (["--tuner", "random", "--seed", "0", "--task", "iris"], "unknown task 'iris'"),
        (["--tuner", "random", "--seed", str(MAX_SEED + 1)], "seed must be between"),
        (["--tuner", "random", "--seed", "0", "--engine", "jax"], "invalid choice: 'jax'"),
        (["--tuner", "random", "--seed", "0", "--cluster", "local:0"], "at least 1 worker"),
    ],
)
def test_bad_run_arguments_exit_2_in_one_line(args, message):
    code, err = _run_main(["run", *args])
    assert code == 2 and message in err and len(error_lines(err)) == 1


@pytest.mark.parametrize("option", ["--slowdown", "--accuracy-threshold"])
@pytest.mark.parametrize("value", ["0", "-0.1", "nan", "inf", "x"])
def test_compare_thresholds_must_be_positive(option, value, tmp_path):
    code, err = _run_main(["compare", "a.json", "b.json", f"{option}={value}"])
    assert code == 2 and "must be a positive number" in err and len(error_lines(err)) == 1


def test_a_file_in_the_way_of_the_output_folder_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("")
    code, err = _run_main(
        ["run", "--tuner", "random", "--seed", "0", "--out", str(tmp_path / "afile" / "deeper")]
    )
    assert code == 2 and "is a file, not a folder" in err and len(error_lines(err)) == 1


def test_a_corrupt_record_in_the_way_is_named_not_overwritten(tmp_path):
    record = tmp_path / "random-smoke-seed0.json"
    record.write_text('{"tuner": "random", "seed"')
    code, err = _run_main(["run", "--tuner", "random", "--seed", "0", "--profile", "smoke",
                           "--out", str(tmp_path)])  # fmt: skip
    assert code == 2 and "not valid JSON" in err and "--force replaces it" in err
    assert record.read_text() == '{"tuner": "random", "seed"'


@pytest.mark.parametrize(
    "fields, named",
    [
        ({"test_accuracy": None}, "test_accuracy"),  # no test score at all
        ({"best_val_accuracy": None}, "best_val_accuracy"),  # accuracy without its val score
    ],
)
def test_a_record_without_a_test_score_is_refused_by_name(fields, named):
    loaded = _load(json.dumps(make_record(**fields)).encode())
    assert isinstance(loaded, HpoError) and named in str(loaded)


def test_a_regression_record_has_r2_in_place_of_accuracy():
    record = make_record(test_accuracy=None, best_val_accuracy=None, test_r2=-0.25)
    [cell] = _load(json.dumps(record).encode()).cells
    assert cell.test_score == -0.25
