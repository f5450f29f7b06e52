"""Profiles, tuner names and seed lists: validation with one-line errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpo.errors import HpoError
from hpo.experiment.profiles import PROFILES, get_profile, parse_seeds
from hpo.tuners import get_tuner, parse_tuners, tuner_names
from hpo.tuners.bayesian import initial_points
from hpo.tuners.hyperband import FACTOR


def test_paper_profile_is_the_seed_reports():
    p = get_profile("paper")
    assert (p.max_trials, p.epochs) == (25, 50)
    assert FACTOR == 3  # Hyperband: max_epochs is the profile's epochs, 50
    assert initial_points(p) == 5


@pytest.mark.parametrize("name", ["", "Paper", "fast", "paper "])
def test_unknown_profile_is_refused(name):
    with pytest.raises(HpoError, match="unknown profile"):
        get_profile(name)


def test_profiles_shrink_from_paper_to_smoke():
    paper, quick, smoke = (PROFILES[n] for n in ("paper", "quick", "smoke"))
    assert paper.epochs > quick.epochs > smoke.epochs
    assert paper.max_trials > quick.max_trials > smoke.max_trials


@given(st.integers(0, 10**6), st.integers(0, 50))
def test_seed_ranges_are_inclusive(start, length):
    assert parse_seeds(f"{start}-{start + length}") == list(range(start, start + length + 1))


def test_seed_lists_merge_and_sort():
    assert parse_seeds("5,0-2,1") == [0, 1, 2, 5]


@pytest.mark.parametrize("text", ["", "a", "3-1", "-1", "1-b", ","])
def test_bad_seed_lists_are_refused(text):
    with pytest.raises(HpoError, match="seed list"):
        parse_seeds(text)


def test_tuner_lists():
    assert parse_tuners("random, hyperband,random") == ["random", "hyperband"]
    with pytest.raises(HpoError, match="unknown tuner 'smac'"):
        parse_tuners("hyperband,smac")


def test_tuner_names_are_the_registry():
    assert tuner_names()[:3] == ["hyperband", "bayesian", "random"]
    assert all(get_tuner(name).name == name for name in tuner_names())
