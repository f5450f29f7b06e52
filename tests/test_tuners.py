"""Tuner factories: the oracle's plans and the seed guard."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpo.experiment.profiles import MAX_SEED, PROFILES, get_profile
from hpo.run.cell import Cell
from hpo.run.search import make_tuner
from hpo.tuners import dry_run, oracle_seed, planned_budget, tuner_names
from hpo.tuners._brackets import hyperband_plan

TUNERS = tuner_names()


def test_paper_hyperband_plans_90_trials_and_922_epochs():
    budget = planned_budget("hyperband", get_profile("paper"))
    assert (budget.trials, budget.epochs) == (90, 922)


@pytest.mark.parametrize(
    ("max_epochs", "factor"), [(3, 3), (15, 3), (50, 3), (27, 3), (50, 2), (81, 4)]
)
def test_the_bracket_arithmetic_plans_what_a_dry_run_of_keras_tuners_oracle_trains(
    max_epochs, factor
):
    """hpo.tuners._brackets repeats Keras Tuner's formulas so that a plan needs no Keras
    Tuner; driving its HyperbandOracle to the end with made-up scores must agree."""
    import keras_tuner as kt

    oracle = kt.oracles.HyperbandOracle(
        objective="val_accuracy", max_epochs=max_epochs, factor=factor, seed=1
    )
    assert dry_run(oracle) == hyperband_plan(max_epochs, factor)


@pytest.mark.parametrize("name", ["bayesian", "random"])
def test_paper_trial_budgets(name):
    budget = planned_budget(name, get_profile("paper"))
    assert (budget.trials, budget.epochs) == (25, 25 * 50)


@given(st.integers(0, MAX_SEED))
def test_oracle_seed_is_never_zero_and_fits_an_int32(seed):
    derived = oracle_seed(seed)
    assert 1 <= derived < 2**31
    assert derived == oracle_seed(seed)


def test_neighbouring_seeds_do_not_share_oracle_streams():
    # Keras Tuner steps its seed by one per sampled value; cell seeds 0..99 must not
    # land within a search's worth of samples of one another.
    derived = sorted(oracle_seed(s) for s in range(100))
    assert min(b - a for a, b in zip(derived, derived[1:], strict=False)) > 10_000


@pytest.mark.parametrize("name", sorted(TUNERS))
def test_seed_zero_reaches_the_oracle_deterministically(name, tmp_path):
    a = make_tuner(Cell.of(name, 0, "smoke"), str(tmp_path / "a"))
    b = make_tuner(Cell.of(name, 0, "smoke"), str(tmp_path / "b"))
    assert a.oracle.seed == b.oracle.seed == oracle_seed(0) != 0
    ta, tb = a.oracle.create_trial("t"), b.oracle.create_trial("t")
    assert ta.hyperparameters.values == tb.hyperparameters.values


def test_each_tuner_keeps_the_seed_reports_project_name(tmp_path):
    names = {
        name: make_tuner(Cell.of(name, 1, "smoke"), str(tmp_path)).project_name for name in TUNERS
    }
    assert {n: names[n] for n in ("hyperband", "bayesian", "random")} == {
        "hyperband": "hyperband_tuning",
        "bayesian": "bayesian_tuning",
        "random": "random_tuning",
    }
    assert all(project == f"{name}_tuning" for name, project in names.items())


@settings(max_examples=5, deadline=None)
@given(st.sampled_from(sorted(PROFILES)))
def test_hyperband_plan_respects_max_epochs(profile_name):
    profile = PROFILES[profile_name]
    budget = planned_budget("hyperband", profile)
    assert budget.epochs <= budget.trials * profile.epochs


def test_the_docs_optuna_sampler_example_asks_its_sampler_on_hpos_space(tmp_path):
    """docs/extending.md's examples/mysampler.py: any Optuna sampler, through the adapter."""
    import optuna

    from hpo.experiment.space import SPACE
    from hpo.tuners._optuna_oracle import OptunaOracle

    tuner = make_tuner(Cell.of("examples.mysampler:SPEC", 0, "smoke"), str(tmp_path))
    assert isinstance(tuner.oracle, OptunaOracle)
    trials = [tuner.oracle.create_trial(f"tuner{i}") for i in range(2)]
    for trial in trials:
        SPACE.validate(trial.hyperparameters.values)
    assert trials[0].hyperparameters.values != trials[1].hyperparameters.values
    assert isinstance(tuner.oracle._open_study().sampler, optuna.samplers.QMCSampler)
