"""Replaying searches against tables (hpo.replay): deterministic, every tuner to its budget,
bad input in one line, and -- the point of it all -- a live search over a table's grid
trains exactly what its replay looks up."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hpo.cli import main
from hpo.errors import EXIT_BAD_INPUT, HpoError
from hpo.experiment.profiles import PROFILES
from hpo.experiment.results import CellResult
from hpo.replay import SEED_RULE, ReplayTiming, check_table, replay_cell, table_seed
from hpo.replay.live import comparable, first_difference
from hpo.tables import Table, TableSpec, build_table
from hpo.tables.grid import GRID, Grid
from hpo.tables.table import write_table
from hpo.testing import made_up_record
from hpo.testing.tables import made_up_table
from hpo.tuners import get_tuner, tuner_names

TASK = "breast_cancer"
EPOCHS = PROFILES["smoke"].epochs
COMMITTED = Path(__file__).parents[1] / "tables" / "breast_cancer-paper.npz"


def synthetic_table(
    path: Path, grid: Grid = GRID, seeds: tuple[int, ...] = (5, 6), diverge: float | None = None
) -> Table:
    """A table of made-up curves (no training) in the file format: for the harness's tests."""
    return made_up_table(path, grid, seeds, EPOCHS, diverge)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Table:
    return synthetic_table(tmp_path_factory.mktemp("replay") / "synthetic.npz")


# -- the seed rule and determinism ------------------------------------------------------


def test_the_seed_rule_is_the_documented_one() -> None:
    seeds = [11, 22, 33]
    for s, k in [(0, 0), (0, 1), (7, 3), (2**32 - 1, 24)]:
        draw = int(np.random.SeedSequence([s, k]).generate_state(1)[0])
        assert table_seed(seeds, s, k) == seeds[draw % 3]
    assert "SeedSequence([s, k])" in SEED_RULE


def test_the_same_seed_replays_the_same_record(synthetic: Table) -> None:
    first = replay_cell(synthetic, "tpe", 3)
    again = replay_cell(synthetic, "tpe", 3)
    # Everything but the process's memory: the simulated clock too.
    assert first.without_times() == again.without_times()
    assert first.wall_time_s == again.wall_time_s
    assert [h.elapsed_s for h in first.history] == [h.elapsed_s for h in again.history]
    other = replay_cell(synthetic, "tpe", 4)
    assert other.history != first.history
    cited = {
        "table": "synthetic.npz",
        "hash": synthetic.hash,
        "seed_rule": SEED_RULE,
        "epochs": EPOCHS,
    }
    assert first.replay is not None and first.replay.to_dict() == cited
    # Today's schema: the record reads back as any record does.
    assert CellResult.from_dict(json.loads(json.dumps(first.to_dict()))).replay == first.replay


def test_a_replay_looks_every_epoch_up(synthetic: Table) -> None:
    result = replay_cell(synthetic, "random", 1)
    clock = 0.0
    for k, entry in enumerate(result.history):
        config = synthetic.index_of(entry.hyperparameters)
        seed = table_seed(synthetic.seeds, 1, k)
        val = synthetic.curve(config, seed, "val_accuracy")
        assert list(entry.curve.val_accuracy) == [float(v) for v in val]
        assert entry.val_accuracy == float(val.max())
        assert entry.params == synthetic.params(config)
        clock += float(synthetic.curve(config, seed, "epoch_time_s").sum())
        assert entry.elapsed_s == pytest.approx(clock)
    assert result.wall_time_s == pytest.approx(clock)
    best = next(h for h in result.history if h.hyperparameters == result.best_hyperparameters)
    k = int(best.trial_id)
    config = synthetic.index_of(best.hyperparameters)
    seed = table_seed(synthetic.seeds, 1, k)
    epoch = int(np.argmax(synthetic.curve(config, seed, "val_accuracy")))
    assert result.test_accuracy == float(synthetic.curve(config, seed, "test_score")[epoch])
    assert result.test_loss == float(synthetic.curve(config, seed, "test_loss")[epoch])
    assert result.best_val_loss == float(synthetic.curve(config, seed, "val_loss")[epoch])


# -- every tuner --------------------------------------------------------------------------


@pytest.mark.parametrize("tuner", tuner_names())
def test_every_tuner_replays_to_its_planned_budget(synthetic: Table, tuner: str) -> None:
    timing = ReplayTiming()
    result = replay_cell(synthetic, tuner, 0, timing=timing)
    budget = get_tuner(tuner).budget(PROFILES["smoke"])
    assert (len(result.history), result.epochs_trained) == (budget.trials, budget.epochs)
    assert result.trials_failed == 0 and result.engine == "graph"
    assert result.pareto and timing.trials == budget.trials
    for entry in result.history:
        assert entry.epochs == len(entry.curve.loss)


@pytest.mark.parametrize("tuner", ["hyperband", "bohb", "hyperband-bayesian", "random"])
def test_a_profile_of_fewer_epochs_replays_to_its_own_budget(tuner: str) -> None:
    """The committed 50-epoch table at smoke: the smoke plan, every trial within 3 epochs."""
    result = replay_cell(Table.load(COMMITTED), tuner, 0, profile="smoke")
    budget = get_tuner(tuner).budget(PROFILES["smoke"])
    assert (len(result.history), result.epochs_trained) == (budget.trials, budget.epochs)
    assert result.profile == "smoke" and result.replay is not None
    assert result.replay.epochs == EPOCHS
    assert all(len(h.curve.loss) == h.epochs <= EPOCHS for h in result.history)


def test_the_command_replays_at_a_profile_of_fewer_epochs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _cli(
        capsys, "--replay", str(COMMITTED), "--tuner", "tpe", "--seed", "4",
        "--profile", "smoke", "--out", str(tmp_path),
    )  # fmt: skip
    assert rc == 0 and "replayed from breast_cancer-paper.npz (real trainings)" in out
    record = json.loads((tmp_path / "tpe-smoke-seed4-replay.json").read_text())
    assert record["profile"] == "smoke" and record["replay"]["epochs"] == EPOCHS
    again = replay_cell(Table.load(COMMITTED), "tpe", 4, profile="smoke")
    assert CellResult.from_dict(record).without_times() == again.without_times()


def test_hyperband_continues_the_parents_curve(synthetic: Table) -> None:
    result = replay_cell(synthetic, "hyperband", 2)
    by_id = {h.trial_id: h for h in result.history}
    continued = [h for h in result.history if h.round > 0]
    assert continued
    for entry in continued:
        # Its parent: the same configuration, one round earlier, in the same bracket.
        parent = next(
            h
            for h in by_id.values()
            if h.hyperparameters == entry.hyperparameters
            and h.bracket == entry.bracket
            and h.round == entry.round - 1
        )
        config = synthetic.index_of(entry.hyperparameters)
        seed = table_seed(synthetic.seeds, 2, int(parent.trial_id))
        loss = [float(v) for v in synthetic.curve(config, seed, "loss")]
        start = parent.epochs if parent.round == 0 else None
        if start is not None:
            assert list(entry.curve.loss) == loss[start : start + entry.epochs]


def test_a_diverged_row_fails_its_trial_as_live(tmp_path: Path) -> None:
    grid = Grid(num_layers=(1,), units=(32, 128, 512), learning_rate=(0.01, 0.1))
    table = synthetic_table(tmp_path / "diverging.npz", grid=grid, diverge=0.1)
    for seed in range(20):
        result = replay_cell(table, "random", seed)
        failed = [h for h in result.history if h.status == "FAILED"]
        if failed:
            break
    else:
        pytest.fail("no seed drew a diverging configuration")
    for entry in failed:
        assert entry.hyperparameters["learning_rate"] == 0.1
        assert entry.epochs == 2 and entry.val_accuracy is None
        assert entry.curve.loss[1] is None
        assert entry.error == (
            "keras_tuner.src.errors.FailedTrialError: loss became nan at epoch 2: the model"
            " diverged"
        )
    assert result.trials_failed == len(failed)


# -- bad input ------------------------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["run", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _one_error(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.startswith("hpo: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_the_command_replays_and_says_so(
    synthetic: Table, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _cli(
        capsys, "--replay", synthetic.source, "--tuner", "random", "--seed", "2",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert rc == 0
    assert "replayed from synthetic.npz (real trainings)" in out
    record = json.loads((tmp_path / "random-smoke-seed2-replay.json").read_text())
    assert record["replay"]["hash"] == synthetic.hash
    again = replay_cell(synthetic, "random", 2)
    assert CellResult.from_dict(record).without_times() == again.without_times()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--task", "mnist1d"], "--task mnist1d: the table"),
        (["--profile", "quick"], "but profile quick trains 15"),
        (["--engine", "keras"], "--engine keras: a replay"),
    ],
)
def test_options_a_replay_cannot_honour_are_one_line(
    synthetic: Table,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: str,
) -> None:
    rc, _, err = _cli(
        capsys, "--replay", synthetic.source, "--tuner", "random", "--seed", "0",
        "--out", str(tmp_path), *argv,
    )  # fmt: skip
    assert rc == EXIT_BAD_INPUT
    assert expected in _one_error(err)


def test_a_missing_or_corrupt_table_is_one_line(
    synthetic: Table, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.npz"
    rc, _, err = _cli(capsys, "--replay", str(missing), "--tuner", "random", "--seed", "0")
    assert rc == EXIT_BAD_INPUT and "no such file" in _one_error(err)
    corrupt = tmp_path / "corrupt.npz"
    data = bytearray(Path(synthetic.source).read_bytes())
    corrupt.write_bytes(bytes(data[: len(data) // 2]))
    rc, _, err = _cli(capsys, "--replay", str(corrupt), "--tuner", "random", "--seed", "0")
    assert rc == EXIT_BAD_INPUT and "not an hpo table" in _one_error(err)


OUT_OF_GRID = """
import keras_tuner as kt

class Sixty4(kt.oracles.RandomSearchOracle):
    def populate_space(self, trial_id):
        return {"status": "RUNNING", "values": {"num_layers": 1, "units_0": 64,
                "activation": "relu", "dropout": 0.0, "learning_rate": 0.01}}

def make_oracle(ctx):
    return Sixty4(objective=ctx.objective, max_trials=ctx.max_trials, seed=ctx.seed)
"""


def test_a_proposal_outside_the_grid_is_one_line(
    synthetic: Table,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "sixty4_tuner.py").write_text(OUT_OF_GRID)
    monkeypatch.syspath_prepend(str(tmp_path))
    rc, _, err = _cli(
        capsys, "--replay", synthetic.source, "--tuner", "sixty4_tuner:make_oracle",
        "--seed", "0", "--out", str(tmp_path),
    )  # fmt: skip
    assert rc == EXIT_BAD_INPUT
    line = _one_error(err)
    assert "'units_0': 64" in line and "not in the grid" in line
    sys.modules.pop("sixty4_tuner", None)


def test_a_partial_table_is_refused(tmp_path: Path, synthetic: Table) -> None:
    arrays = {k: np.array(v) for k, v in synthetic.arrays.items()}
    arrays["trained"][0, 0] = False
    meta = {k: v for k, v in synthetic.meta.items() if k != "hash"}
    write_table(tmp_path / "partial.npz", arrays, meta)
    with pytest.raises(HpoError, match="partial table"):
        replay_cell(Table.load(tmp_path / "partial.npz"), "random", 0)


# -- live equals replay ------------------------------------------------------------------

# Eight configurations, two depths (two traced graphs), two activations, with and without dropout.
LIVE_GRID = Grid(num_layers=(1, 2), units=(32,), activation=("relu", "tanh"), dropout=(0.0, 0.2),
                 learning_rate=(0.01,))  # fmt: skip
LIVE_SEEDS = (101, 202)


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Table:
    spec = TableSpec(
        task=TASK, profile="smoke", epochs=EPOCHS, seeds=LIVE_SEEDS, split_seed=0, grid=LIVE_GRID
    )
    out = tmp_path_factory.mktemp("real") / "tiny-real.npz"
    build_table(spec, out, workers=1, quiet=True)
    return Table.load(out)


@pytest.mark.parametrize("tuner", ["random", "tpe"])
def test_a_live_search_trains_what_its_replay_looks_up(real: Table, tuner: str) -> None:
    """Random search, as the replay's promise is stated; and TPE, whose Optuna study lives in
    a journal file live and in memory in a replay."""
    from hpo.replay.live import run_live_on_grid

    replayed = replay_cell(real, tuner, 0)
    live = run_live_on_grid(real, tuner, 0)
    # Both trial seeds are used: the rule, not one seed, is what is checked.
    used = {table_seed(real.seeds, 0, int(h.trial_id)) for h in replayed.history}
    assert len(replayed.history) == PROFILES["smoke"].max_trials and used == set(LIVE_SEEDS)
    for a, b in zip(live.history, replayed.history, strict=True):
        assert a.hyperparameters == b.hyperparameters
        assert a.curve == b.curve  # every epoch's loss, val_loss, val_accuracy: ==
        assert a.val_accuracy == b.val_accuracy and a.params == b.params
    assert live.best_hyperparameters == replayed.best_hyperparameters
    assert live.test_accuracy == replayed.test_accuracy
    # model.evaluate sums the test loss in batches, the table in one pass: the last bits.
    assert math.isclose(live.test_loss, replayed.test_loss, rel_tol=1e-5)
    assert comparable(live) == comparable(replayed) and first_difference(live, replayed) is None
    assert replayed.replay is not None and live.replay is None


@pytest.mark.slow
def test_two_live_keras_tuner_workers_train_what_a_replay_on_two_workers_looks_up(
    real: Table, tmp_path: Path
) -> None:
    """Keras Tuner's distributed mode on the table's grid (`--table`): random search's n-th
    proposal is its n-th draw whichever worker asks, and each trial trains its grid point
    under the table seed its index gives, so every trial equals the replay's on 2 simulated
    workers, epoch by epoch (==), whatever order the workers finished in."""
    from hpo.parallel.distributed import run_distributed

    cell = check_table(real, "random", 0)
    live = run_distributed(cell, workers=2, workdir=tmp_path / "dist", quiet=True,
                           table=real.source)  # fmt: skip
    replayed = replay_cell(real, "random", 0, workers=2)
    assert live.workers == replayed.workers == 2 and not live.faults
    by_id = {h.trial_id: h for h in replayed.history}
    assert sorted(by_id) == sorted(h.trial_id for h in live.history)
    for a in live.history:
        b = by_id[a.trial_id]
        assert (a.hyperparameters, a.curve, a.val_accuracy) == (
            b.hyperparameters,
            b.curve,
            b.val_accuracy,
        )
    assert live.best_hyperparameters == replayed.best_hyperparameters
    assert live.test_accuracy == replayed.test_accuracy
    assert math.isclose(live.test_loss, replayed.test_loss, rel_tol=1e-5)


def test_a_profile_of_fewer_epochs_replays_what_a_shorter_live_run_trains() -> None:
    """The committed paper table (50 epochs a row) replayed at smoke (3 epochs) on a seed
    whose split is not the table's: each row's first 3 epochs are what a 3-epoch live trial
    of it trains, on the table's split."""
    from hpo.replay.live import run_live_on_grid

    table = Table.load(COMMITTED)
    live = run_live_on_grid(table, "random", 7, profile="smoke")
    replayed = replay_cell(table, "random", 7, profile="smoke")
    assert replayed.replay is not None and replayed.replay.epochs == EPOCHS
    assert [h.epochs for h in replayed.history] == [EPOCHS] * len(replayed.history)
    assert math.isclose(live.test_loss, replayed.test_loss, rel_tol=1e-5)
    # The committed table was trained on another machine, whose CPU kernels round some
    # float32 sums otherwise: every choice and count equal, every float to 1e-5.
    assert _close(comparable(live), comparable(replayed))
    assert math.isclose(live.test_accuracy, replayed.test_accuracy, rel_tol=1e-5)


def _close(a: Any, b: Any, rel: float = 1e-5) -> bool:
    """Equal structures, equal non-floats, floats within `rel` of each other."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return isinstance(b, list | tuple) and len(a) == len(b) and all(map(_close, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)
    return bool(a == b)


def test_records_differ_only_where_a_replay_says_so(real: Table) -> None:
    replayed = replay_cell(real, "random", 0)
    fields = {f.name for f in dataclasses.fields(CellResult)}
    assert set(replayed.to_dict()) == fields


# -- pytest benchmarks --hpo-replay ------------------------------------------------------


def _pytest(args: list[str], cwd: Path) -> Any:
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", *args],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip


def test_a_pytest_session_replays_its_cells_and_says_so(synthetic: Table, tmp_path: Path) -> None:
    repository = Path(__file__).parents[1]
    out = tmp_path / "b.json"
    done = _pytest(
        [
            str(repository / "benchmarks" / "test_search.py"), "--hpo-replay", synthetic.source,
            "--hpo-tuners", "random,tpe", "--hpo-seeds", "0-1", "--benchmark-json", str(out),
        ],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (
        "hpo: per-tuner means, replayed from synthetic.npz (real trainings; results hold"
        in done.stdout
    )
    said = "Results replayed from synthetic.npz (real trainings; results hold for each table's"
    assert said in done.stdout
    report = (tmp_path / "b-report" / "report.md").read_text()
    assert "| random (replayed, n=2) |" in report and "(measured" not in report
    cells = sorted((tmp_path / "b-cells").glob("*.json"))
    assert [p.name for p in cells] == [
        "random-smoke-seed0.json", "random-smoke-seed1.json",
        "tpe-smoke-seed0.json", "tpe-smoke-seed1.json",
    ]  # fmt: skip
    assert all(json.loads(p.read_text())["replay"]["hash"] == synthetic.hash for p in cells)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--hpo-profile", "quick"], "but profile quick trains 15"),
        (["--hpo-tasks", "mnist1d"], "--hpo-tasks mnist1d: the table"),
    ],
)
def test_a_pytest_session_refuses_more_epochs_or_another_task_in_one_line(
    synthetic: Table, tmp_path: Path, argv: list[str], expected: str
) -> None:
    (tmp_path / "test_cells.py").write_text("def test_cell(hpo_tuner, hpo_seed):\n    pass\n")
    done = _pytest(["--hpo-replay", synthetic.source, *argv], tmp_path)
    assert done.returncode == EXIT_BAD_INPUT
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines


def test_a_pytest_session_replays_at_a_profile_of_fewer_epochs(tmp_path: Path) -> None:
    repository = Path(__file__).parents[1]
    done = _pytest(
        [
            str(repository / "benchmarks" / "test_search.py"), "--hpo-replay", str(COMMITTED),
            "--hpo-profile", "smoke", "--hpo-tuners", "hyperband", "--hpo-seeds", "3",
            "--benchmark-json", str(tmp_path / "b.json"),
        ],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (cell,) = (tmp_path / "b-cells").glob("*.json")
    record = json.loads(cell.read_text())
    assert cell.name == "hyperband-smoke-seed3.json" and record["replay"]["epochs"] == EPOCHS
    again = replay_cell(Table.load(COMMITTED), "hyperband", 3, profile="smoke")
    assert CellResult.from_dict(record).without_times() == again.without_times()


def test_the_readme_tuner_replays_against_the_committed_table() -> None:
    """examples/mytuners.py's hand-picked first model is a point of the tables' grid, so
    `hpo run --replay tables/breast_cancer-paper.npz --tuner mytuners:make_oracle` runs."""
    from examples.mytuners import DEFAULT

    result = replay_cell(Table.load(COMMITTED), "examples.mytuners:make_oracle", 0)
    budget = get_tuner("random").budget(PROFILES["paper"])
    assert (result.trials_completed, result.epochs_trained) == (budget.trials, budget.epochs)
    assert result.history[0].hyperparameters == DEFAULT


def test_a_users_tuner_module_that_imports_keras_prints_no_tensorflow_start_up_lines(
    tmp_path: Path,
) -> None:
    import re
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "hpo", "run", "--replay", str(COMMITTED), "--profile", "smoke",
         "--tuner", "examples.mytuners:make_oracle", "--seed", "0", "--out", str(tmp_path)],
        cwd=COMMITTED.parents[1], capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not re.search(r"cuda|onednn|absl", done.stdout + done.stderr, re.IGNORECASE)


def test_first_difference_names_where_a_live_record_and_its_replay_differ() -> None:
    """Known answers on made-up records: float32/float64 twins of a score are the same; a
    changed choice, curve value or trial count is named; times and versions are not."""
    base = CellResult.from_dict(made_up_record())
    twin = dataclasses.replace(base, test_accuracy=base.test_accuracy * (1 + 3e-6))
    assert first_difference(base, twin) is None
    assert first_difference(base, dataclasses.replace(base, wall_time_s=99.0)) is None
    off = dataclasses.replace(base, test_accuracy=base.test_accuracy + 1 / 114)  # one test row
    assert (
        first_difference(base, off)
        == f"test_accuracy {base.test_accuracy} against {off.test_accuracy}"
    )
    trial = dataclasses.replace(base.history[0], hyperparameters={"num_layers": 2})
    other = dataclasses.replace(base, history=[trial])
    assert first_difference(base, other) == f"trial {trial.trial_id}: hyperparameters"
    longer = dataclasses.replace(base, history=[*base.history, trial])
    assert first_difference(base, longer) == "1 trials against 2"
    none = dataclasses.replace(base, test_accuracy=None)
    assert first_difference(base, none) is not None and first_difference(none, none) is None


def test_live_and_replayed_scores_and_search_times_are_set_side_by_side() -> None:
    """benchmarks/live_replay.py's distributions: equal scores count as equal, the search
    time (measured live, simulated replayed) as its paired difference."""
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "live_replay.py"
    spec = importlib.util.spec_from_file_location("live_replay", path)
    assert spec is not None and spec.loader is not None
    live_replay = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(live_replay)
    base = CellResult.from_dict(made_up_record())
    pairs = [
        (dataclasses.replace(base, seed=s, test_accuracy=0.9 + s / 100, wall_time_s=12.0 + s),
         dataclasses.replace(base, seed=s, test_accuracy=0.9 + s / 100, wall_time_s=10.0 + s))
        for s in range(5)
    ]  # fmt: skip
    lines = live_replay.side_by_side("random", pairs).splitlines()
    assert lines[0] == "random, 5 seeds: live | replayed | paired live - replayed"
    assert lines[1].startswith("  test_accuracy: mean 0.9200") and "equal on 5 of 5" in lines[1]
    assert lines[3].startswith("  search time s: mean 14.0000")
    assert "+2.0000 [95 % CI +2.0000, +2.0000]" in lines[3] and "equal on 0 of 5" in lines[3]
