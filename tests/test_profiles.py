"""Profiles, tuner names and seed lists: validation with one-line errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpo.errors import HpoError
from hpo.profiles import PROFILES, TUNER_NAMES, get_profile, parse_seeds, parse_tuners


def test_paper_profile_is_the_seed_reports():
    p = get_profile("paper")
    assert (p.hyperband_max_epochs, p.hyperband_factor) == (50, 3)
    assert (p.max_trials, p.num_initial_points, p.epochs) == (25, 5, 50)


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
    with pytest.raises(HpoError, match="unknown tuner 'tpe'"):
        parse_tuners("hyperband,tpe")


def test_tuner_names_are_the_registry():
    from hpo.tuners import TUNERS

    assert tuple(TUNERS) == TUNER_NAMES
