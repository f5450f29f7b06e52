"""The regression gate on real smoke searches: no false alarm, and real regressions caught.

Five seeds of RandomSearch at the smoke profile per run: the fewest with which
a one-sided paired test can reach alpha = 0.05.
"""

from __future__ import annotations

import dataclasses
import time

import keras
import keras_tuner as kt
import pytest

from hpo.analysis.compare import compare, min_seeds
from hpo.cli import main
from hpo.engines.graph import GraphFit
from hpo.errors import HpoError
from hpo.experiment.model import build_model
from hpo.experiment.results import Results, write_json
from hpo.experiment.space import declare
from hpo.run.calibration import calibrate
from hpo.run.cell import Cell, run_cell

pytestmark = pytest.mark.slow
SEEDS = range(min_seeds())


def worse_model(hp: kt.HyperParameters) -> keras.Model:
    """Declares the same space (same oracle draws) but always builds a weak model."""
    declare(hp)
    model = keras.Sequential(
        [keras.Input((30,)), keras.layers.Dense(32, "sigmoid"), keras.layers.Dense(1, "sigmoid")]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-4), loss="binary_crossentropy", metrics=["accuracy"]
    )
    return model


class _SleepPerEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(1.0)


class SlowHyperModel(GraphFit):
    """The real model, trained as by default (graph engine), plus a second of sleep per epoch."""

    def fit(self, hp, model, *args, callbacks=None, **kwargs):
        return super().fit(
            hp, model, *args, callbacks=[*(callbacks or []), _SleepPerEpoch()], **kwargs
        )


@pytest.fixture(scope="module")
def calibration():
    return calibrate()


@pytest.fixture(scope="module")
def run(tmp_path_factory, calibration):
    def _run(hypermodel=build_model, per_seed=None) -> Results:
        """`per_seed(seed)` builds a fresh HyperModel for each seed, as make_tuner does."""
        cells = []
        for seed in SEEDS:
            model = per_seed(seed) if per_seed is not None else hypermodel
            cell = run_cell(
                Cell.of("random", seed, "smoke"), tmp_path_factory.mktemp("cell"), hypermodel=model
            )
            cells.append(dataclasses.replace(cell, calibration_s=calibration))
        return Results(cells)

    return _run


@pytest.fixture(scope="module")
def baseline(run):
    return run()


def as_benchmark_json(results: Results, path):
    benches = [{"extra_info": {"cell": c.to_dict()}} for c in results.cells]
    return write_json(path, {"machine_info": {}, "benchmarks": benches})


def test_same_code_twice_passes(baseline, run, tmp_path, capsys):
    again = run()
    [verdict] = compare(baseline, again)
    assert not verdict.regressed, verdict.problems
    assert verdict.accuracy_drop == 0  # same seeds, same code: same models
    base = as_benchmark_json(baseline, tmp_path / "base.json")
    cand = as_benchmark_json(again, tmp_path / "cand.json")
    assert main(["compare", str(base), str(cand)]) == 0
    assert "no regression" in capsys.readouterr().out


def test_worse_models_fail_on_accuracy(baseline, run, tmp_path, capsys):
    worse = run(worse_model)
    [verdict] = compare(baseline, worse)
    assert any("test accuracy fell" in p for p in verdict.problems)
    base = as_benchmark_json(baseline, tmp_path / "base.json")
    cand = as_benchmark_json(worse, tmp_path / "cand.json")
    assert main(["compare", str(base), str(cand)]) == 1
    assert "REGRESSION in random" in capsys.readouterr().out


def test_slower_search_fails_on_cost(baseline, run):
    slower = run(per_seed=lambda seed: SlowHyperModel())
    [verdict] = compare(baseline, slower)
    assert verdict.accuracy_drop == 0
    assert [p for p in verdict.problems if "normalised search time grew" in p]
    assert not [p for p in verdict.problems if "accuracy" in p]


def test_a_faster_machine_alone_does_not_move_the_verdict(baseline):
    # Same work on a machine twice as fast: times and calibration both halve.
    faster = Results(
        [
            dataclasses.replace(c, wall_time_s=c.wall_time_s / 2, calibration_s=c.calibration_s / 2)
            for c in baseline.cells
        ]
    )
    [verdict] = compare(baseline, faster)
    assert not verdict.regressed and verdict.slowdown == pytest.approx(0)


def test_another_profile_is_refused(baseline, tmp_path, capsys):
    quick = Results([dataclasses.replace(c, profile="quick") for c in baseline.cells])
    with pytest.raises(HpoError, match="cannot be compared"):
        compare(baseline, quick)
    base = as_benchmark_json(baseline, tmp_path / "base.json")
    cand = as_benchmark_json(quick, tmp_path / "cand.json")
    assert main(["compare", str(base), str(cand)]) == 2
    assert "profile 'smoke', candidate 'quick'" in capsys.readouterr().err


def test_seeds_must_overlap_and_be_enough(baseline):
    shifted = Results([dataclasses.replace(c, seed=c.seed + 100) for c in baseline.cells])
    with pytest.raises(HpoError, match="do not overlap"):
        compare(baseline, shifted)
    with pytest.raises(HpoError, match="needs at least 5"):
        compare(baseline, Results(baseline.cells[:3]))


def test_budget_changes_are_regressions(baseline):
    changed = Results(
        [dataclasses.replace(baseline.cells[0], epochs_trained=1), *baseline.cells[1:]]
    )
    [verdict] = compare(baseline, changed)
    assert any("budget changed" in p for p in verdict.problems)
