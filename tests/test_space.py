"""The search space: any value inside it builds the declared model; outside is refused."""

from __future__ import annotations

import keras
import keras_tuner as kt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpo.errors import HpoError
from hpo.experiment.model import build_model, fixed_hyperparameters
from hpo.experiment.space import SPACE, declare
from hpo.experiment.tasks import get_task
from hpo.testing.strategies import out_of_space_values, space_values

MODEL_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@MODEL_SETTINGS
@given(space_values())
def test_model_matches_the_declared_values(values):
    model = build_model(fixed_hyperparameters(values))
    hidden = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][:-1]
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    output = model.layers[-1]

    assert [layer.units for layer in hidden] == [
        values[f"units_{i}"] for i in range(values["num_layers"])
    ]
    assert {layer.activation.__name__ for layer in hidden} == {values["activation"]}
    assert [d.rate for d in dropouts] == pytest.approx([values["dropout"]] * len(hidden))
    assert model.input_shape == (None, get_task("breast_cancer").n_features) == (None, 30)
    assert model.output_shape == (None, 1)
    assert output.activation.__name__ == "sigmoid"
    assert float(model.optimizer.learning_rate) == pytest.approx(values["learning_rate"])
    assert isinstance(model.optimizer, keras.optimizers.Adam)


@settings(max_examples=60, deadline=None)
@given(out_of_space_values())
def test_values_outside_the_space_are_refused(case):
    values, name = case
    with pytest.raises(HpoError, match=name):
        fixed_hyperparameters(values)


@settings(max_examples=30, deadline=None)
@given(out_of_space_values())
def test_build_model_refuses_values_outside_the_space(case):
    values, name = case
    hp = kt.HyperParameters()
    hp.values.update(values)
    with pytest.raises(HpoError, match=name):
        build_model(hp)


@given(st.integers(SPACE.min_layers, SPACE.max_layers))
def test_units_are_active_exactly_below_num_layers(num_layers):
    hp = kt.HyperParameters()
    declare(hp)  # registers every hyperparameter, conditional ones included
    hp.values["num_layers"] = num_layers
    for i in range(SPACE.max_layers):
        hp_units = next(p for p in hp.space if p.name == f"units_{i}")
        assert hp.is_active(hp_units) == (i < num_layers)
    hp.ensure_active_values()
    assert sorted(declare(hp)) == sorted(SPACE.active_names(num_layers))


def test_space_is_the_seed_reports():
    assert (SPACE.min_layers, SPACE.max_layers) == (1, 3)
    assert SPACE.units_values[0] == 32 and SPACE.units_values[-1] == 512
    assert len(SPACE.units_values) == 16
    assert SPACE.activations == ("relu", "tanh", "sigmoid")
    assert SPACE.dropout_values == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert SPACE.learning_rates == (0.001, 0.01, 0.1)


def test_keras_tuner_space_is_what_space_declares():
    hp = kt.HyperParameters()
    declare(hp)
    by_name = {p.name: p for p in hp.space}
    assert set(by_name) == set(SPACE.active_names(SPACE.max_layers))
    assert list(by_name["activation"].values) == list(SPACE.activations)
    assert list(by_name["learning_rate"].values) == list(SPACE.learning_rates)
    units = by_name["units_0"]
    assert (units.min_value, units.max_value, units.step) == (32, 512, 32)
