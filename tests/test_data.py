"""Data splits: sizes, disjointness, stratification, train-only scaling, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpo.errors import HpoError
from hpo.experiment.data import MAX_SEED, check_seed, load_splits
from hpo.experiment.tasks import get_task

SEEDS = st.integers(0, MAX_SEED)
X, Y = get_task("breast_cancer").load()


def _rows(part: np.ndarray, splits) -> set[bytes]:
    """Original rows of a scaled part, as bytes, to test disjointness."""
    return {row.tobytes() for row in np.round(splits.scaler.inverse_transform(part), 6)}


@settings(max_examples=15, deadline=None)
@given(SEEDS)
def test_sizes_add_up_and_parts_are_disjoint(seed):
    s = load_splits(seed)
    assert sum(s.sizes.values()) == 569 == len(Y)
    assert s.sizes == {"train": 364, "val": 91, "test": 114}
    parts = [_rows(p, s) for p in (s.x_train, s.x_val, s.x_test)]
    assert sum(len(p) for p in parts) == len(set().union(*parts)) == 569
    assert s.x_train.shape[1] == s.x_val.shape[1] == s.x_test.shape[1] == 30


@settings(max_examples=15, deadline=None)
@given(SEEDS)
def test_class_ratios_are_preserved_within_one_row(seed):
    s = load_splits(seed)
    ratio = Y.mean()
    for y in (s.y_train, s.y_val, s.y_test):
        assert abs(y.sum() - ratio * len(y)) <= 1


@settings(max_examples=10, deadline=None)
@given(SEEDS)
def test_scaler_is_fitted_on_train_rows_alone(seed):
    s = load_splits(seed)
    train_raw = s.scaler.inverse_transform(s.x_train.astype(np.float64))
    np.testing.assert_allclose(s.scaler.mean_, train_raw.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(s.scaler.scale_, train_raw.std(axis=0), rtol=1e-5)
    np.testing.assert_allclose(s.x_train.mean(axis=0), 0, atol=1e-5)
    assert not np.allclose(s.x_test.mean(axis=0), 0, atol=1e-3)


@settings(max_examples=10, deadline=None)
@given(SEEDS)
def test_same_seed_gives_byte_identical_splits(seed):
    a, b = load_splits(seed), load_splits(seed)
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes()


@settings(max_examples=10, deadline=None)
@given(SEEDS, SEEDS)
def test_different_seeds_give_different_splits(s1, s2):
    if s1 == s2:
        return
    assert load_splits(s1).y_test.tobytes() != load_splits(s2).y_test.tobytes() or (
        load_splits(s1).x_test.tobytes() != load_splits(s2).x_test.tobytes()
    )


@pytest.mark.parametrize("bad", [-1, MAX_SEED + 1, 1.5, "3", None, True])
def test_bad_seeds_are_refused(bad):
    with pytest.raises(HpoError, match="seed"):
        check_seed(bad)
