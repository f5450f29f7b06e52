"""Tables of a task's own model and search space (`hpo.tables.space_grid`): the grid is the
space's tree, a row is a live trial of that task (every epoch equal), replays search it,
and bad input is one line (exit 2) with nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hpo.errors import HpoError
from hpo.experiment.tasks import get_task
from hpo.replay import replay_cell
from hpo.replay.live import run_live_on_grid
from hpo.tables.build import build_table
from hpo.tables.plan import FAILED_TO_TRAIN, TableSpec
from hpo.tables.space_grid import SpaceGrid, declared_space, grid_of_space, levels
from hpo.tables.table import Table
from hpo.tuners import trial_seed
from tests.helpers import error_lines, outside_xdist

TREE = "tests.user_tasks:tree_task"
REPOSITORY = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def space():
    return declared_space(get_task(TREE))


# -- the grid: the space's tree ------------------------------------------------------------


def test_the_space_is_read_by_building_in_declaration_order(space) -> None:
    assert [h.name for h in space] == ["filters", "pool", "pool_size", "lr"]


def test_the_grid_is_the_spaces_tree_not_the_product_of_its_axes(space) -> None:
    grid = grid_of_space(space)
    # filters 2 x (no pool, or pool at sizes 2, 3, 4) x 3 learning rates: pool_size is
    # drawn only where pool is True (a product would give 2 x 2 x 3 x 3 = 36).
    assert len(grid) == 2 * (1 + 3) * 3 == 24
    configs = grid.configs()
    assert all(("pool_size" in c) == c["pool"] for c in configs)
    assert len({json.dumps(c, sort_keys=True) for c in configs}) == 24
    assert all(grid.index_of(c) == i for i, c in enumerate(configs))
    # Keras Tuner's own keys and an inactive hyperparameter's value are ignored.
    assert grid.index_of({**configs[0], "tuner/epochs": 3, "pool_size": 4}) == 0
    assert SpaceGrid.from_json(json.loads(grid.dumps())) == grid


def test_default_levels_follow_each_hyperparameters_scale_and_step(space) -> None:
    by_name = {h.name: h for h in space}
    assert levels(by_name["filters"]) == (4, 8)  # a Choice: every value
    assert levels(by_name["pool"]) == (False, True)
    assert levels(by_name["pool_size"]) == (2, 3, 4)  # its whole step grid: 3 values
    assert levels(by_name["lr"]) == (0.001, 0.01, 0.1)  # log scale: the geometric middle


def test_a_grid_file_gives_values_and_is_checked_against_the_space(space) -> None:
    grid = grid_of_space(space, {"lr": [0.01], "pool_size": [2, 4]}, "g.json")
    assert len(grid) == 2 * (1 + 2) * 1
    with pytest.raises(HpoError) as e:
        grid_of_space(space, {"units": [8]}, "g.json")
    assert str(e.value).startswith("g.json: 'units' is not a hyperparameter of the task's space")
    for bad, said in (
        ({"pool_size": [5]}, "outside [2, 4]"),
        ({"pool_size": [2.5]}, "not an integer"),
        ({"lr": [0.5]}, "outside [0.001, 0.1]"),
        ({"filters": [6]}, "not one of its values [4, 8]"),
        ({"pool": ["yes"]}, "not true or false"),
        ({"lr": []}, "must be a non-empty list"),
    ):
        with pytest.raises(HpoError, match="g.json: ") as e:
            grid_of_space(space, bad, "g.json")
        assert said in str(e.value) and "\n" not in str(e.value)


# -- a table of a task's own model -----------------------------------------------------------

SEEDS = (trial_seed(3, 0), trial_seed(3, 1))  # nothing special: two training seeds


@pytest.fixture(scope="module")
def tree_table(tmp_path_factory, space) -> Table:
    """Six configurations of the tree task's space, under two seeds, at 3 epochs."""
    grid = grid_of_space(space, {"filters": [4], "lr": [0.01, 0.1]}, "test")
    assert len(grid) == 1 * (1 + 3) * 2 == 8
    spec = TableSpec(task=TREE, profile="smoke", epochs=3, seeds=SEEDS, grid=grid)
    out = tmp_path_factory.mktemp("tree") / "tree.npz"
    build_table(spec, out, workers=1, quiet=True)
    return Table.load(out)


@pytest.mark.slow
def test_a_live_search_of_the_grid_trains_exactly_the_tables_rows(tree_table) -> None:
    """A real Keras Tuner search of grid points (random search and TPE, Keras' fit) logs, at
    every epoch, what the table holds, `==`; the best model counts the same test rows."""
    for tuner in ("random", "tpe"):
        live = run_live_on_grid(tree_table, tuner, 5)
        replayed = replay_cell(tree_table, tuner, 5)
        assert [h.hyperparameters for h in live.history] == [
            h.hyperparameters for h in replayed.history
        ]
        for a, b in zip(live.history, replayed.history, strict=True):
            assert a.engine == b.engine == "keras"
            assert a.params == b.params and a.epochs == b.epochs
            for name in ("loss", "val_loss", "val_accuracy"):
                assert list(getattr(a.curve, name)) == list(getattr(b.curve, name)), name
        assert live.best_hyperparameters == replayed.best_hyperparameters
        n = live.n_test
        assert round(live.test_accuracy * n) == round(replayed.test_accuracy * n)
        assert live.test_loss == pytest.approx(replayed.test_loss, rel=1e-5)


@pytest.mark.slow
def test_every_built_in_single_objective_tuner_replays_a_tables_tree(tree_table) -> None:
    for tuner in ("random", "tpe", "sobol", "cmaes", "gp", "bohb", "bayesian", "hyperband"):
        record = replay_cell(tree_table, tuner, 0)
        assert record.trials_completed > 0 and record.replay is not None
        for h in record.history:
            assert tree_table.index_of(h.hyperparameters) >= 0  # every proposal a grid point


@pytest.mark.slow
def test_a_configuration_that_fails_to_build_is_a_failed_row(tmp_path) -> None:
    task = get_task("tests.user_tasks:fragile_task")
    grid = grid_of_space(declared_space(task), {"lr": [0.01]}, "test")
    spec = TableSpec(task=task.name, profile="smoke", epochs=3, seeds=(0,), grid=grid)
    build_table(spec, tmp_path / "f.npz", workers=1, quiet=True)
    table = Table.load(tmp_path / "f.npz")
    failed = np.asarray(table.arrays["failed_at_epoch"])[:, 0]
    bad = [i for i, c in enumerate(grid.configs()) if c.get("pool_size") == 4]
    assert bad and all(failed[i] == FAILED_TO_TRAIN for i in bad)
    assert all(failed[i] == -1 for i in range(len(grid)) if i not in bad)
    assert all("ValueError: no pool of 4" in table.row_errors[i] for i in bad)
    # Replayed, such a row is a failed trial of no epochs, with its reason.
    for seed in range(6):
        record = replay_cell(table, "random", seed)
        for h in record.history:
            if h.hyperparameters.get("pool_size") == 4:
                assert h.status == "FAILED" and h.epochs == 0
                assert h.error == "ValueError: no pool of 4"


# -- the command ------------------------------------------------------------------------------


def _tabulate(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hpo", "tabulate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**outside_xdist(), "PYTHONPATH": str(REPOSITORY)},
        timeout=600,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("grid", "said"),
    [
        ({"units": [8]}, "'units' is not a hyperparameter of the task's space"),
        ({"pool_size": [9]}, "pool_size value 9 is outside [2, 4]"),
        ({"filters": []}, "filters must be a non-empty list"),
        ({"lr": [0.01, 0.1, 0.05, 0.02]}, "the grid has 32 configurations, over --max-configs 30"),
    ],
)
def test_bad_grids_are_one_line_and_exit_2_with_nothing_written(tmp_path, grid, said) -> None:
    (tmp_path / "g.json").write_text(json.dumps(grid))
    done = _tabulate(
        ["--task", TREE, "--grid", "g.json", "--profile", "smoke", "--max-configs", "30",
         "--out", "t.npz"],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = error_lines(done.stderr)
    assert len(lines) == 1 and said in lines[0], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json"]


@pytest.mark.slow
def test_an_in_process_build_trains_with_one_thread_as_worker_processes_do(tmp_path) -> None:
    """`--workers 1` trains in the command's process, after the space's discovery built a
    model: the one TensorFlow thread a worker process has must be set before that (on some
    CPUs float32 sums round by thread count, and the rows would differ from --workers N's)."""
    (tmp_path / "g.json").write_text(json.dumps({"filters": [4], "lr": [0.01]}))
    done = _tabulate(
        ["--task", TREE, "--grid", "g.json", "--profile", "smoke", "--seeds", "0",
         "--workers", "1", "--limit", "1", "--out", "t.npz"],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert Table.load(tmp_path / "t.npz").meta["build"]["tf_threads"] == [1]
