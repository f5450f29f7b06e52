"""Tables of real trainings (hpo.tables): the grid, the file, lookups, and builds that are
exact (a row is a live trial, bit for bit), resumable, and the same on any worker count."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import io
import itertools
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hpo.errors import HpoError
from hpo.experiment.space import SPACE
from hpo.tables.build import BuildResult, build_table, parts_dir
from hpo.tables.cli import add_tabulate_parser, run_tabulate
from hpo.tables.grid import GRID, Grid
from hpo.tables.plan import TableSpec, chunks
from hpo.tables.table import CURVES, HASHED, METRICS, Table, npz_bytes, read_npz, table_hash
from hpo.tuners import trial_seed

TASK = "breast_cancer"
# Four configurations, two depths (two traced graphs), with and without dropout.
TINY = Grid(num_layers=(1, 2), units=(32,), activation=("relu",), dropout=(0.0, 0.2),
            learning_rate=(0.01,))  # fmt: skip
# The seeds of a live search's first two trials on cell seed 0: its trial k is row (c, seed k).
SEEDS = (trial_seed(0, 0), trial_seed(0, 1))
SPEC = TableSpec(task=TASK, profile="smoke", epochs=3, seeds=SEEDS, split_seed=0, grid=TINY)
TIMING_MEMBERS = ("epoch_time_s.npy", "build_time_s.npy", "meta.npy")
Built = tuple[BuildResult, Table]


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and message
    return message


# -- the grid ---------------------------------------------------------------------------


def test_the_default_grid_spans_the_space_with_1053_configurations() -> None:
    configs = GRID.configs()
    assert len(GRID) == len(configs) == 1053 >= 500
    for config in configs:
        SPACE.validate(config)
    assert {c["num_layers"] for c in configs} == {1, 2, 3}
    widths = {v for c in configs for k, v in c.items() if k.startswith("units_")}
    assert min(widths) == 32 and max(widths) == 512
    assert {c["activation"] for c in configs} == set(SPACE.activations)
    assert {c["dropout"] for c in configs} == {0.0, 0.2, 0.5}
    assert {c["learning_rate"] for c in configs} == set(SPACE.learning_rates)
    assert len({json.dumps(c, sort_keys=True) for c in configs}) == 1053


def test_configurations_come_in_the_documented_order_with_active_names_only() -> None:
    expected = []
    for n in (1, 2, 3):
        for widths in itertools.product((32, 128, 512), repeat=n):
            for act, drop, lr in itertools.product(
                ("relu", "tanh", "sigmoid"), (0.0, 0.2, 0.5), (0.001, 0.01, 0.1)
            ):
                expected.append(
                    {"num_layers": n, **{f"units_{i}": w for i, w in enumerate(widths)},
                     "activation": act, "dropout": drop, "learning_rate": lr}
                )  # fmt: skip
    configs = GRID.configs()
    assert configs == expected
    assert [list(c) for c in configs[:1]] == [SPACE.active_names(1)]
    assert list(configs[-1]) == SPACE.active_names(3)
    assert all(GRID.index_of(c) == i for i, c in enumerate(configs))
    assert GRID.config(17) == configs[17]


def test_a_grid_is_normalised_and_round_trips_through_json() -> None:
    grid = Grid(units=(512, 32, 32), dropout=(0.30000000000000004, 0.0), learning_rate=(0.1,))
    assert grid.units == (32, 512) and grid.dropout == (0.0, 0.3)
    assert Grid.from_json(json.loads(grid.dumps())) == grid
    assert Grid.from_json({}) == GRID  # keys left out: the default grid's values
    assert len(Grid(num_layers=(2,), units=(32, 64))) == 4 * 27


@pytest.mark.parametrize(
    "data",
    [
        {"units": [33]},
        {"units": [1024]},
        {"num_layers": [4]},
        {"num_layers": [True]},
        {"dropout": [0.25]},
        {"learning_rate": [0.5]},
        {"activation": ["gelu"]},
        {"units": []},
        {"units": 32},
        {"width": [32]},
        [1, 2],
    ],
)
def test_a_grid_outside_the_space_is_refused_in_one_line(data: object) -> None:
    with pytest.raises(HpoError) as e:
        Grid.from_json(data, source="g.json")
    assert _one_line(e).startswith("g.json: ")


def test_a_configuration_is_found_whatever_keras_tuner_adds_and_refused_if_absent() -> None:
    config = GRID.configs()[100]
    with_extras = {**config, "tuner/epochs": 3, "units_2": 64}  # units_2 inactive (2 layers)
    assert config["num_layers"] == 2 and GRID.index_of(with_extras) == 100
    with pytest.raises(HpoError, match="is not in the table's grid") as e:
        GRID.index_of({**config, "units_0": 64})  # in the space, not in the grid
    _one_line(e)
    with pytest.raises(HpoError, match="is not a hyperparameter"):
        GRID.index_of({**config, "momentum": 0.9})


def test_chunks_are_of_one_depth_and_activation_and_cover_each_row_once() -> None:
    spec = TableSpec(task=TASK, profile="paper", epochs=50, seeds=(0, 1, 2), grid=GRID)
    plan = chunks(spec, range(spec.n_rows))
    rows = [r for chunk in plan for r in chunk]
    assert sorted(rows) == list(range(spec.n_rows)) == list(range(3159))

    def kinds_of(chunk: list[int]) -> set[tuple[int, str]]:
        configs = [spec.configs[spec.row(r)[0]] for r in chunk]
        return {(c["num_layers"], c["activation"]) for c in configs}

    for chunk in plan:
        assert len(kinds_of(chunk)) == 1 and len(chunk) <= 27
    # Interleaved in proportion: halfway through, every kind is about half done (a true ETA).
    kinds = [kinds_of(c).pop() for c in plan]
    half = kinds[: len(plan) // 2]
    for k in set(kinds):  # within one chunk of half of that kind's chunks
        assert abs(half.count(k) / kinds.count(k) - 0.5) <= 1 / kinds.count(k), k
    assert spec.row(3158) == (1052, 2)


# -- a tiny table, built in this process ------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("table") / "tiny.npz"
    result = build_table(SPEC, out, workers=1, chunk_rows=2, quiet=True)
    return result, Table.load(out)


def test_a_table_has_its_shapes_meta_and_provenance(built: Built) -> None:
    from hpo.run.provenance import source_hash, versions

    result, table = built
    assert (result.rows, result.rows_total, result.trained_now, result.reused) == (8, 8, 8, 0)
    assert not result.partial and not table.partial
    for name in CURVES:
        assert table.arrays[name].shape == (4, 2, 3) and table.arrays[name].dtype == np.float32
    assert table.arrays["params"].tolist() == [1025, 1025, 2081, 2081]
    assert table.arrays["seeds"].tolist() == list(SEEDS)
    assert (table.arrays["failed_at_epoch"] == -1).all() and table.arrays["trained"].all()
    for name in METRICS:
        assert np.isfinite(table.arrays[name]).all(), name
    meta = table.meta
    assert meta["hpo_source"] == source_hash() and meta["versions"] == versions()
    assert (meta["task"], meta["profile"], meta["epochs"], meta["split_seed"]) == (
        TASK, "smoke", 3, 0)  # fmt: skip
    assert Grid.from_json(meta["grid"]) == TINY and meta["seeds"] == list(SEEDS)
    assert meta["trainer"] == "graph" and meta["objective"] == "val_accuracy"
    assert meta["steps_per_epoch"] == 12 and meta["split_sizes"] == {
        "train": 364, "val": 91, "test": 114}  # fmt: skip
    assert meta["partial"] is False and meta["rows_trained"] == 8
    build = meta["build"]
    assert build["cpu_count"] >= 1 and build["wall_time_s"] > 0 and build["workers"] == 1
    assert isinstance(build["tf_threads"], list)
    assert table.hash == meta["hash"] == table_hash(table.arrays) == result.hash
    assert len(table.hash) == 64
    assert not parts_dir(result.path).exists()  # the sidecar is gone once the table is written


def test_rows_are_looked_up_by_configuration_seed_and_metric(built: Built) -> None:
    _, table = built
    config = TINY.configs()[3]
    i = table.index_of(config)
    assert i == 3 and table.configs()[i] == config
    curve = table.curve(i, SEEDS[1], "val_accuracy")
    assert curve.shape == (3,) and not curve.flags.writeable
    assert np.array_equal(table.curve(i, SEEDS[1], "objective"), curve)
    assert np.array_equal(curve, table.arrays["val_accuracy"][3, 1])
    assert table.failed_at(i, SEEDS[0]) is None and table.params(i) == 2081
    with pytest.raises(HpoError, match="is not in the table's grid") as e:
        table.index_of({**config, "units_0": 64})
    _one_line(e)
    with pytest.raises(HpoError, match="training seed 5 is not in the table"):
        table.curve(i, 5, "loss")
    with pytest.raises(HpoError, match="unknown metric"):
        table.curve(i, SEEDS[0], "f1")
    with pytest.raises(HpoError, match="outside the table"):
        table.curve(4, SEEDS[0], "loss")


def _live_trial(config: dict[str, Any], seed: int, splits: Any) -> tuple[Any, Any]:
    """A trial as hpo.run.search.TrialRecorder runs one on the graph engine, step by step."""
    import keras

    from hpo.engines.graph import GraphFit
    from hpo.experiment.model import build_model, fixed_hyperparameters
    from hpo.experiment.tasks import get_task
    from hpo.run.search import _kernel_cache_kept

    with _kernel_cache_kept():  # TrialRecorder.run_trial
        keras.utils.set_random_seed(seed)
    with _kernel_cache_kept():  # TrialRecorder._try_build
        keras.backend.clear_session(free_memory=False)
    gc.collect()
    hp = fixed_hyperparameters(config)
    model = build_model(hp, get_task(TASK))
    history = GraphFit(task=get_task(TASK)).fit(
        hp, model, splits.x_train, splits.y_train, validation_data=(splits.x_val, splits.y_val),
        batch_size=32, epochs=3, callbacks=[], verbose=0,
    ).history  # fmt: skip
    return model, history


def test_a_row_is_what_a_live_trial_with_its_seed_trains_bit_for_bit(built: Built) -> None:
    from hpo.experiment.data import load_splits
    from hpo.experiment.tasks import get_task
    from hpo.run.cell import test_score_eagerly

    _, table = built
    splits = load_splits(0, TASK)
    for ci, seed in ((1, SEEDS[0]), (2, SEEDS[1])):  # dropout 0.2 on one layer; two layers
        model, history = _live_trial(TINY.configs()[ci], seed, splits)
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert (table.curve(ci, seed, name) == np.float32(history[name])).all(), name
        assert table.params(ci) == model.count_params()
        # The last epoch's weights judged on the test rows, as hpo.run.cell judges a model.
        score = test_score_eagerly(model, splits, get_task(TASK))
        assert table.curve(ci, seed, "test_score")[-1] == np.float32(score)


@pytest.mark.slow
def test_a_row_equals_the_trial_of_a_real_keras_tuner_search(built: Built, tmp_path: Path) -> None:
    """A real search (Keras Tuner, hpo's TrialRecorder, run_cell) proposing two grid points."""
    import keras_tuner as kt

    from hpo.experiment.profiles import get_profile
    from hpo.experiment.tasks import get_task
    from hpo.run.cell import Cell, run_cell
    from hpo.tuners import TunerSpec

    _, table = built
    proposals = [TINY.configs()[1], TINY.configs()[3]]

    class Fixed(kt.Oracle):
        def populate_space(self, trial_id: str) -> dict[str, Any]:
            index = int(trial_id)
            if index >= len(proposals):
                return {"status": "STOPPED"}
            return {"status": "RUNNING", "values": dict(proposals[index])}

    spec = TunerSpec(
        name="fixed",
        make_oracle=lambda ctx: Fixed(
            objective=kt.Objective("val_accuracy", "max"), max_trials=2, seed=ctx.seed
        ),
    )
    cell = Cell(spec, 0, dataclasses.replace(get_profile("smoke"), max_trials=2), get_task(TASK))
    record = run_cell(cell, tmp_path)
    assert [h.status for h in record.history] == ["COMPLETED", "COMPLETED"]
    for k, entry in enumerate(record.history):
        ci = table.index_of(entry.hyperparameters)
        assert ci == (1, 3)[k]
        seed = trial_seed(0, k)  # what TrialRecorder seeded trial k with
        for name in ("loss", "val_loss", "val_accuracy"):
            assert (table.curve(ci, seed, name) == np.float32(getattr(entry.curve, name))).all(), (
                name
            )
        assert table.params(ci) == entry.params
    # The best model (its best epoch's weights) judged by model.evaluate: the same count of
    # test rows right as the table's eager pass at that epoch; the loss to its last bits.
    best = next(h for h in record.history if h.hyperparameters == record.best_hyperparameters)
    k = record.history.index(best)
    ci, seed = table.index_of(best.hyperparameters), trial_seed(0, k)
    epoch = int(np.argmax(best.curve.val_accuracy))  # Keras Tuner keeps the first best
    assert record.test_accuracy is not None
    right = round(record.test_accuracy * 114)
    assert round(float(table.curve(ci, seed, "test_score")[epoch]) * 114) == right
    assert table.curve(ci, seed, "test_loss")[epoch] == pytest.approx(record.test_loss, rel=1e-5)


def test_a_diverging_row_is_kept_with_its_epoch_and_nan_after_it() -> None:
    from hpo.experiment.data import load_splits
    from hpo.experiment.tasks import get_task
    from hpo.tables.rows import train_row

    splits = load_splits(0, TASK)
    poisoned = dataclasses.replace(splits, y_train=np.full(len(splits.y_train), np.nan))
    row = train_row(5, TINY.configs()[0], 0, get_task(TASK), poisoned, epochs=3)
    assert row.failed_at_epoch == 0 and row.row == 5
    assert np.isnan(row.curves["loss"][0])  # the epoch that failed, as logged
    for name in CURVES:
        assert np.isnan(row.curves[name][1:]).all(), name


# -- resuming, partial tables, refusals -------------------------------------------------


class Killed(Exception):
    pass


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _without_build(table: Table) -> dict:
    return {k: v for k, v in table.meta.items() if k != "build"}


def test_a_killed_build_resumes_and_ends_byte_identical_apart_from_timing(
    built: Built, tmp_path: Path
) -> None:
    out = tmp_path / "resumed.npz"

    def kill(n: int) -> None:
        raise Killed(f"killed after chunk {n}")

    with pytest.raises(Killed):
        build_table(SPEC, out, workers=1, chunk_rows=2, quiet=True, on_chunk_saved=kill)
    assert not out.exists() and len(list(parts_dir(out).glob("rows-*.npz"))) == 1
    stream = io.StringIO()
    resumed = build_table(SPEC, out, workers=1, chunk_rows=2, stream=stream)
    assert (resumed.trained_now, resumed.reused) == (6, 2)
    assert "6 of 8 rows to train (18 epochs; 2 saved before)" in stream.getvalue()
    assert "tabulate breast_cancer smoke: 8/8 rows" in stream.getvalue()
    assert not parts_dir(out).exists()
    whole, again = _members(built[0].path), _members(out)
    assert whole.keys() == again.keys()
    for name in whole.keys() - set(TIMING_MEMBERS):
        assert whole[name] == again[name], name
    assert _without_build(Table.load(out)) == _without_build(built[1])
    # Built already: nothing to do, the file is left as it is.
    before = out.read_bytes()
    assert build_table(SPEC, out, workers=1, quiet=True).already_built
    assert out.read_bytes() == before


def test_a_partial_build_says_so_and_a_later_build_trains_only_what_it_lacks(
    built: Built, tmp_path: Path
) -> None:
    out = tmp_path / "partial.npz"
    first = build_table(SPEC, out, workers=1, quiet=True, limit=3)
    table = Table.load(out)
    assert first.partial and table.partial and table.meta["partial"] is True
    assert table.arrays["trained"].tolist() == [[True, True], [True, False], [False, False],
                                                [False, False]]  # fmt: skip
    with pytest.raises(HpoError, match="partial table") as e:
        table.curve(1, SEEDS[1], "loss")
    _one_line(e)
    assert np.array_equal(table.curve(1, SEEDS[0], "loss"), built[1].curve(1, SEEDS[0], "loss"))
    whole = build_table(SPEC, out, workers=1, quiet=True)
    assert (whole.trained_now, whole.reused) == (5, 3) and not whole.partial
    assert whole.hash == built[1].hash


def test_saved_rows_or_a_table_of_another_build_are_refused_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "t.npz"
    one = dataclasses.replace(SPEC, grid=Grid(num_layers=(1,), units=(32,), activation=("relu",),
                              dropout=(0.0,), learning_rate=(0.01,)), seeds=(0,))  # fmt: skip
    with pytest.raises(Killed):
        build_table(one, out, workers=1, quiet=True, on_chunk_saved=lambda n: _raise(Killed()))
    other = dataclasses.replace(one, seeds=(1,))
    with pytest.raises(HpoError, match=r"saved rows of another table \(their seeds differ\)"):
        build_table(other, out, workers=1, quiet=True)
    forced = build_table(other, out, workers=1, quiet=True, force=True)
    assert (forced.trained_now, forced.reused) == (1, 0)
    with pytest.raises(HpoError, match=r"holds another table \(its seeds differ\); --force") as e:
        build_table(one, out, workers=1, quiet=True)
    _one_line(e)


def _raise(error: Exception) -> None:
    raise error


# -- table files that cannot be used ----------------------------------------------------


def test_a_missing_or_corrupt_table_is_one_line(built: Built, tmp_path: Path) -> None:
    with pytest.raises(HpoError, match="no such file") as e:
        Table.load(tmp_path / "absent.npz")
    _one_line(e)
    text = tmp_path / "text.npz"
    text.write_text("not a table\n")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(built[0].path.read_bytes()[:-100])
    for path in (text, truncated, tmp_path):
        with pytest.raises(HpoError, match="not an hpo table|a folder") as e:
            Table.load(path)
        _one_line(e)
    arrays = read_npz(built[0].path, "a table")
    lacking = tmp_path / "lacking.npz"
    lacking.write_bytes(npz_bytes({k: v for k, v in arrays.items() if k != "val_loss"}))
    with pytest.raises(HpoError, match="lacks val_loss"):
        Table.load(lacking)
    arrays["loss"] = arrays["loss"].copy()
    arrays["loss"][0, 0, 0] += 1
    tampered = tmp_path / "tampered.npz"
    tampered.write_bytes(npz_bytes(arrays))
    with pytest.raises(HpoError, match="corrupt table: its arrays do not match its hash") as e:
        Table.load(tampered)
    _one_line(e)
    assert set(HASHED) <= set(arrays) and "epoch_time_s" not in HASHED


# -- the command ------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hpo")
    sub = parser.add_subparsers(dest="command", required=True)
    add_tabulate_parser(lambda name, summary: sub.add_parser(name, help=summary))
    return parser


def test_the_command_has_its_options_and_defaults() -> None:
    args = _parser().parse_args(["tabulate"])
    assert (args.task, args.profile, args.seeds, args.split_seed) == (TASK, "paper", "0-2", "0")
    assert (args.grid, args.workers, args.cluster, args.out, args.limit) == (None,) * 5
    assert not args.force and not args.quiet and args.func is run_tabulate


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--task", "nope"], "unknown task 'nope'"),
        (["--seeds", "3-1"], "bad seed list"),
        (["--split-seed", "x"], "--split-seed must be an integer"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--workers", "2", "--cluster", "local:2"], "choose one"),
        (["--cluster", "local:0"], "at least 1 worker"),
        (["--out", "{file}/t.npz"], "is a file, not a folder"),
        (["--grid", "{absent}"], "no such file"),
    ],
)
def test_bad_input_is_one_line_before_any_training(
    argv: list[str], message: str, tmp_path: Path
) -> None:
    (tmp_path / "f").write_text("")
    argv = [a.format(file=tmp_path / "f", absent=tmp_path / "absent.json") for a in argv]
    args = _parser().parse_args(["tabulate", "--out", str(tmp_path / "t.npz"), *argv])
    with pytest.raises(HpoError, match=message) as e:
        run_tabulate(args)
    _one_line(e)


def test_the_command_builds_a_table_from_a_grid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps(TINY.to_json()))
    out = tmp_path / "cmd.npz"
    argv = ["tabulate", "--profile", "smoke", "--seeds", "0", "--grid", str(grid), "--workers",
            "1", "--limit", "1", "--out", str(out)]  # fmt: skip
    assert run_tabulate(_parser().parse_args(argv)) == 0
    captured = capsys.readouterr()
    assert f"wrote {out}: 1/4 rows (partial)" in captured.out
    assert "tabulate breast_cancer smoke: 1/1 rows" in captured.err
    table = Table.load(out)
    assert table.partial and Grid.from_json(table.meta["grid"]) == TINY and table.seeds == [0]
    assert run_tabulate(_parser().parse_args([*argv, "--quiet"])) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and f"kept {out}" in captured.out


# -- the same table from other processes ------------------------------------------------


def _science(table: Table) -> dict[str, np.ndarray]:
    return {name: table.arrays[name] for name in HASHED}


@pytest.mark.slow
def test_two_worker_processes_build_the_same_table(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over more chunks than the processes may train: fresh processes take over, no hang
    (a pool retiring its workers by max_tasks_per_child hangs there: CPython gh-115634)."""
    from hpo.tables import worker

    monkeypatch.setattr(worker, "CHUNKS_PER_PROCESS", 2)  # 8 chunks: two rounds of 2 x 2
    out = tmp_path / "two.npz"
    result = build_table(SPEC, out, workers=2, chunk_rows=1, quiet=True)
    table = Table.load(out)
    assert result.hash == built[1].hash
    for name, array in _science(built[1]).items():
        assert np.array_equal(table.arrays[name], array, equal_nan=True), name
    assert table.meta["build"]["tf_threads"] == [1] and table.meta["build"]["workers"] == 2


@pytest.mark.slow
def test_a_dask_worker_replaces_its_process_after_its_chunks(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a Dask task runs (`run_chunk_on_dask_worker`), called here directly: a process
    trains CHUNKS_PER_PROCESS chunks, then a fresh one takes over and trains the same."""
    from hpo.tables import worker
    from hpo.tables.plan import job

    monkeypatch.setattr(worker, "CHUNKS_PER_PROCESS", 2)
    monkeypatch.setattr(worker, "_DASK_POOL", None)
    try:
        done = [
            worker.run_chunk_on_dask_worker(job(SPEC, rows))
            for rows in chunks(SPEC, range(8), 1)[:3]
        ]
    finally:
        if worker._DASK_POOL is not None:
            worker._DASK_POOL.shutdown()
    pids = [chunk.facts["pid"] for chunk in done]
    assert pids[0] == pids[1] != pids[2]
    for chunk in done:
        (row,) = chunk.rows
        for name in METRICS:
            assert np.array_equal(
                row.curves[name], built[1].arrays[name][SPEC.row(row.row)], equal_nan=True
            ), name


@pytest.mark.slow
def test_a_local_dask_cluster_builds_the_same_table(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "dask.npz"
    result = build_table(SPEC, out, cluster="local:1", chunk_rows=4, quiet=True)
    assert result.hash == built[1].hash
    assert Table.load(out).meta["build"]["cluster"] == "local:1"


# -- the committed tables -----------------------------------------------------------------

COMMITTED = sorted((Path(__file__).parents[1] / "tables").glob("*-paper.npz"))
SIGNALS = Path(__file__).parents[1] / "tables" / "signals-quick.npz"
SPLIT1 = Path(__file__).parents[1] / "tables" / "mnist1d-quick-split1.npz"


def test_the_committed_tables_are_the_ones_the_docs_cite() -> None:
    names = sorted(p.name for p in (Path(__file__).parents[1] / "tables").glob("*.npz"))
    paper = [f"{t}-paper.npz" for t in ("breast_cancer", "diabetes", "mnist1d", "wine")]
    assert names == sorted([*paper, SIGNALS.name, SPLIT1.name])
    docs = Path(__file__).parents[1] / "docs"
    cited = (docs / "tables.md").read_text()
    assert all(f"tables/{name}" in cited for name in [*paper, SPLIT1.name])
    assert f"tables/{SIGNALS.name}" in (docs / "your-task.md").read_text()


def test_the_second_split_of_mnist1d_is_its_whole_quick_grid() -> None:
    """How much one split decides: the default grid under seeds 0-2 at `quick`'s 15 epochs,
    on split 1 (the paper table's split is 0)."""
    table = Table.load(SPLIT1)
    assert table.task == "mnist1d" and table.meta["profile"] == "quick"
    assert table.meta["split_seed"] == 1 and Table.load(COMMITTED[2]).meta.get("split_seed", 0) == 0
    assert not table.partial and table.grid == GRID and list(table.seeds) == [0, 1, 2]
    assert table.arrays["val_accuracy"].shape == (len(GRID), 3, 15)


def test_the_example_models_table_is_its_whole_grid() -> None:
    """docs/your-task.md's table: every row of examples/signals-grid.json's grid of the
    example's own space, seeds 0-2, `quick`'s 15 epochs, trained by Keras' fit."""
    from hpo.experiment.tasks import get_task
    from hpo.tables.space_grid import declared_space, grid_of_space

    table = Table.load(SIGNALS)
    grid_file = Path(__file__).parents[1] / "examples" / "signals-grid.json"
    values = json.loads(grid_file.read_text())
    space = declared_space(get_task("examples.signals:task"))
    assert table.grid == grid_of_space(space, values, str(grid_file))
    assert len(table.grid) == 336 and list(table.seeds) == [0, 1, 2]
    assert not table.partial and table.trainer == "keras" and table.meta["profile"] == "quick"
    assert table.arrays["val_accuracy"].shape == (336, 3, 15)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_a_committed_table_is_whole_and_its_hash_holds(path: Path) -> None:
    """Every row of the default grid under seeds 0-2 for the paper's 50 epochs; loading
    recomputes the hash over every array but the timings."""
    table = Table.load(path)
    assert table.task == path.name.split("-")[0] and table.meta["profile"] == "paper"
    assert not table.partial and table.grid == GRID and list(table.seeds) == [0, 1, 2]
    assert table.arrays["val_accuracy"].shape == (len(GRID), 3, 50)
