"""Pareto sets and hypervolume: hand-computed answers on fixed points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpo.analysis.pareto import (
    attainment,
    error,
    front,
    hypervolume,
    hypervolume_curve,
    pareto_set,
    size,
    trial_points,
)
from hpo.experiment.records import TrialRecord
from hpo.experiment.space import param_range
from hpo.experiment.tasks import get_task

BC = get_task("breast_cancer")
DIABETES = get_task("diabetes")


def test_hypervolume_of_a_fixed_set_is_the_hand_computed_area():
    # Rectangles up to (1, 1), swept along x: 0.2 x 0.4 + 0.3 x 0.7 + 0.3 x 0.9 = 0.56.
    points = [(0.2, 0.6), (0.4, 0.3), (0.7, 0.1)]
    assert hypervolume(points) == pytest.approx(0.56, abs=1e-12)
    # A dominated point, a duplicate and a point beyond the reference add nothing.
    assert hypervolume([*points, (0.5, 0.5), (0.4, 0.3), (1.2, 0.0)]) == pytest.approx(0.56)
    assert hypervolume([]) == 0.0
    assert hypervolume([(0.0, 0.0)]) == pytest.approx(1.0)


def test_front_keeps_the_non_dominated_points_and_the_first_of_equals():
    points = [(0.3, 0.3), (0.2, 0.6), (0.3, 0.3), (0.4, 0.4), (0.7, 0.1), (0.2, 0.7)]
    assert front(points) == [0, 1, 4]


@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=12))
def test_the_front_alone_has_the_hypervolume_of_all_points(points):
    kept = front(points)
    assert kept
    assert hypervolume([points[i] for i in kept]) == pytest.approx(hypervolume(points), abs=1e-12)
    for i in kept:  # nothing kept is dominated
        a, b = points[i]
        assert not any(c <= a and d <= b and (c, d) != (a, b) for c, d in points)


def test_objectives_map_onto_the_unit_square():
    low, high = param_range(BC)
    assert size(low, BC) == 0.0 and size(high, BC) == pytest.approx(1.0)
    assert error(0.97, BC) == pytest.approx(0.03)
    assert error(0.4, DIABETES) == pytest.approx(0.4)  # a loss objective is its own error
    assert error(3.0, DIABETES) == 1.0  # worse than predicting the mean: capped


def _trial(score, params, status="COMPLETED", epochs=3):
    entry = {"status": status, "val_accuracy": score, "params": params, "epochs": epochs}
    return TrialRecord.from_dict({**entry, "elapsed_s": 0.0})


def test_pareto_set_and_curve_of_a_history():
    low, high = param_range(BC)
    history = [
        _trial(0.90, high),
        _trial(0.95, high),  # dominates the first
        _trial(None, low, status="FAILED"),
        _trial(0.80, low),  # smallest: on the front
        _trial(0.95, high),  # equal to trial 1: not kept twice
    ]
    assert pareto_set(history, BC) == [1, 3]
    curve = hypervolume_curve(history, BC)
    assert curve[0] == pytest.approx(0.0, abs=1e-12)  # the largest model: no width
    assert curve[2] == curve[1]  # a failed trial changes nothing
    assert curve[3] == pytest.approx(0.8 * 1.0)  # error 0.2 at size 0: (1 - 0.2) x 1
    assert curve == sorted(curve)  # never falls


def test_the_median_attainment_curve_of_three_seeds():
    low, high = param_range(BC)

    def at(frac):  # a model of size `frac` on the [0, 1] scale
        return int(round(low * (high / low) ** frac))

    seeds = [
        [_trial(0.9, at(0.5))],  # error 0.1 from size 0.5
        [_trial(0.8, at(0.2)), _trial(0.95, at(0.8))],  # 0.2 from 0.2, 0.05 from 0.8
        [_trial(0.7, at(0.4))],  # 0.3 from 0.4
    ]
    curve = attainment(seeds, BC, [0.1, 0.3, 0.45, 0.6, 0.9])
    # At 0.1 nobody has a model; at 0.3 one seed of three; at 0.45 two (0.2, 0.3) and one
    # none; at 0.6 all three (0.1, 0.2, 0.3); at 0.9 (0.1, 0.05, 0.3).
    assert np.isnan(curve[0]) and np.isnan(curve[1])
    assert curve[2:] == pytest.approx([0.3, 0.2, 0.1], abs=1e-6)


@given(st.lists(st.tuples(st.floats(0.5, 1), st.floats(0, 1)), min_size=1, max_size=15))
def test_the_curve_is_the_hypervolume_of_every_trial_so_far(trials):
    """The incremental curve equals the hypervolume of all points up to each trial."""
    low, high = param_range(BC)
    history = [_trial(acc, max(low, int(round(low * (high / low) ** s)))) for acc, s in trials]
    points = [(e, s) for _, e, s in trial_points(history, BC)]
    curve = hypervolume_curve(history, BC)
    for i in range(len(history)):
        assert curve[i] == pytest.approx(hypervolume(points[: i + 1]), abs=1e-12)
