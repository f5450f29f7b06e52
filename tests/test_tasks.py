"""Every task: its splits (disjoint, complete, stratified, scaled on train rows only) and its
model head (output shape, loss, every point of the space builds; sizes counted right)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpo.errors import HpoError
from hpo.experiment.data import MAX_SEED, load_splits
from hpo.experiment.model import build_model, fixed_hyperparameters
from hpo.experiment.space import param_count, param_range
from hpo.experiment.tasks import (
    SHIPPED_FEATURES,
    TASKS,
    FixedSplits,
    _n_features,
    get_task,
    parse_tasks,
)
from hpo.testing.strategies import space_values

SEEDS = st.integers(0, MAX_SEED)
NAMES = list(TASKS)
HEADS = {  # task -> (output units, output activation, loss, test score)
    "breast_cancer": (1, "sigmoid", "binary_crossentropy", "accuracy"),
    "wine": (3, "softmax", "sparse_categorical_crossentropy", "accuracy"),
    "digits": (10, "softmax", "sparse_categorical_crossentropy", "accuracy"),
    "diabetes": (1, "linear", "mean_squared_error", "R²"),
    "synthetic": (1, "sigmoid", "binary_crossentropy", "accuracy"),
    "mnist1d": (10, "softmax", "sparse_categorical_crossentropy", "accuracy"),
}


def all_rows(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A task's rows, whether it gives them all or as its own train and test parts."""
    data = get_task(name).load()
    if isinstance(data, FixedSplits):
        return tuple(np.concatenate([a, b]) for a, b in zip(data.train, data.test, strict=True))
    return data


def test_the_six_tasks_of_the_suite():
    assert NAMES == ["breast_cancer", "wine", "digits", "diabetes", "synthetic", "mnist1d"]
    assert get_task("diabetes").objective == "val_loss" and get_task("diabetes").minimise
    assert all(get_task(t).objective == "val_accuracy" for t in NAMES if t != "diabetes")


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=5, deadline=None)
@given(seed=SEEDS)
def test_splits_are_disjoint_complete_and_sized(name, seed):
    x, _ = all_rows(name)
    s = load_splits(seed, name)
    n = len(x)
    assert sum(s.sizes.values()) == n
    own = get_task(name).load()
    if isinstance(own, FixedSplits):  # its own test rows are the hold-out
        assert s.sizes["test"] == len(own.test[1])
        np.testing.assert_array_equal(s.y_test, own.test[1])
    else:
        assert s.sizes["test"] == int(np.ceil(0.2 * n))  # scikit-learn rounds the test part up
    rows = [
        {r.tobytes() for r in np.round(s.scaler.inverse_transform(p), 4)}
        for p in (s.x_train, s.x_val, s.x_test)
    ]
    distinct = len({r.tobytes() for r in np.round(x, 4)})
    assert len(set().union(*rows)) == distinct  # every row is in some part...
    assert sum(map(len, rows)) == distinct  # ...and in one only (digits repeats a few rows)


@pytest.mark.parametrize("name", [n for n in NAMES if not get_task(n).regression])
@settings(max_examples=5, deadline=None)
@given(seed=SEEDS)
def test_classes_keep_their_shares_in_every_part(name, seed):
    _, y = all_rows(name)
    s = load_splits(seed, name)
    own = isinstance(get_task(name).load(), FixedSplits)
    if own:  # stratified within its own train rows; its test rows are as given
        y = get_task(name).load().train[1]
    for part in (s.y_train, s.y_val) if own else (s.y_train, s.y_val, s.y_test):
        for label in np.unique(y):
            assert abs((part == label).sum() - (y == label).mean() * len(part)) <= 1


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=5, deadline=None)
@given(seed=SEEDS)
def test_features_and_regression_targets_are_scaled_on_train_rows_alone(name, seed):
    s = load_splits(seed, name)
    np.testing.assert_allclose(s.x_train.mean(axis=0), 0, atol=1e-4)
    assert not np.allclose(s.x_test.mean(axis=0), 0, atol=1e-3)
    if get_task(name).regression:
        assert s.y_train.dtype == np.float32
        assert abs(float(s.y_train.mean())) < 1e-5 and abs(float(s.y_train.std()) - 1) < 1e-5
        assert abs(float(s.y_test.mean())) > 1e-4  # test rows are not re-centred
    else:
        assert s.y_train.dtype == np.int64


@pytest.mark.parametrize("name", NAMES)
def test_a_shipped_tasks_known_features_are_its_datas(name):
    """Analysis counts a shipped task's MLP weights from SHIPPED_FEATURES, not its data."""
    assert sorted(SHIPPED_FEATURES) == sorted(TASKS)
    assert get_task(name).n_features == SHIPPED_FEATURES[name] == _n_features(get_task(name))
    assert load_splits(0, name).x_train.shape[1] == SHIPPED_FEATURES[name]


@pytest.mark.parametrize("name", NAMES)
def test_the_same_seed_gives_byte_identical_splits(name):
    a, b = load_splits(3, name), load_splits(3, name)
    for part in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert getattr(a, part).tobytes() == getattr(b, part).tobytes()


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=space_values())
def test_every_point_of_the_space_builds_the_task_head(name, values):
    units, activation, loss, score = HEADS[name]
    task = get_task(name)
    model = build_model(fixed_hyperparameters(values), task)
    assert model.input_shape == (None, task.n_features)
    assert model.output_shape == (None, units)
    assert keras.activations.serialize(model.layers[-1].activation) == activation
    assert model.loss == loss and task.score_name == score
    assert param_count(values, task) == model.count_params()


@pytest.mark.parametrize("name", NAMES)
def test_the_size_range_is_the_space_s_smallest_and_largest_model(name):
    low, high = param_range(name)
    smallest = {"num_layers": 1, "units_0": 32, "activation": "relu", "dropout": 0.0,
                "learning_rate": 0.001}  # fmt: skip
    largest = {**smallest, "num_layers": 3, "units_0": 512, "units_1": 512, "units_2": 512}
    assert low == build_model(fixed_hyperparameters(smallest), name).count_params()
    assert high == build_model(fixed_hyperparameters(largest), name).count_params()


def test_task_lists_are_parsed_and_checked():
    assert parse_tasks("wine, digits,wine") == ["wine", "digits"]
    assert parse_tasks("all") == NAMES
    with pytest.raises(HpoError, match="unknown task 'iris'; choose one of breast_cancer"):
        parse_tasks("wine,iris")
    with pytest.raises(HpoError, match="no task named"):
        parse_tasks(" , ")


@pytest.mark.parametrize("name", NAMES)
def test_the_eager_test_score_is_evaluate_s(name):
    """A front's models are scored by one eager pass: the same correct rows (or R²) as
    Keras' evaluate, which the best model gets."""
    from hpo.run.cell import evaluate_on_test, test_score_eagerly

    task, splits = get_task(name), load_splits(1, name)
    values = {"num_layers": 2, "units_0": 64, "units_1": 32, "activation": "tanh",
              "dropout": 0.2, "learning_rate": 0.01}  # fmt: skip
    model = build_model(fixed_hyperparameters(values), task)
    model.fit(splits.x_train, splits.y_train, epochs=2, verbose=0)
    _, by_evaluate = evaluate_on_test(model, splits, task)
    eager = test_score_eagerly(model, splits, task)
    if task.regression:
        assert eager == pytest.approx(by_evaluate, abs=1e-9)
    else:
        n = len(splits.y_test)
        assert round(eager * n) == round(by_evaluate * n)
