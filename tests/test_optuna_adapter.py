"""The Optuna adapter and hpo's Hyperband variants on hpo's space: their store, their resume.

The conformance suite (tests/test_conformance.py) already runs every tuner for
determinism, budget and one mid-search kill; these add what is specific to them:
define-by-run asks of hpo's space (other spaces: tests/test_oracle_contract.py),
the journal's repair, a kill at every moment between Keras Tuner's and Optuna's
writes, BOHB's model in use, the hybrid's budget split.
"""

from __future__ import annotations

import tempfile
from unittest import mock

import keras_tuner as kt
import optuna
import pytest

from hpo.errors import HpoError
from hpo.experiment.profiles import PROFILES, get_profile
from hpo.experiment.space import SPACE, declare
from hpo.run.cell import Cell, run_cell
from hpo.testing import Killed, counting_writes, reference_run
from hpo.tuners import (
    Budget,
    TunerContext,
    dry_run,
    get_tuner,
    oracle_seed,
    parse_tuners,
    planned_budget,
    tuner_names,
)
from hpo.tuners._brackets import bracket_cost
from hpo.tuners._optuna_oracle import OptunaOracle, _repair_journal, as_finished_trial, ask
from hpo.tuners.hyperband import FACTOR
from tests.helpers import Diverging


def hpo_space() -> kt.HyperParameters:
    hp = kt.HyperParameters()
    declare(hp)
    return hp


def test_optuna_is_asked_only_for_the_active_hyperparameters():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen_layers = set()
    for _ in range(200):
        trial = study.ask()
        values = ask(trial, hpo_space())
        SPACE.validate(values)
        assert set(trial.params) == set(values) == set(SPACE.active_names(values["num_layers"]))
        assert values["dropout"] in SPACE.dropout_values  # the exact decimal, not a float sum
        seen_layers.add(values["num_layers"])
        study.tell(trial, 0.5)
    assert seen_layers == {1, 2, 3}


def test_hpos_space_is_asked_with_the_distributions_and_order_it_always_had():
    """What Optuna is asked on hpo's declared space is what hpo asked before it translated
    declared spaces: the same distributions, in the same order (records do not change)."""
    from optuna.distributions import CategoricalDistribution as Cat
    from optuna.distributions import FloatDistribution, IntDistribution

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask({"num_layers": IntDistribution(3, 3)})
    ask(trial, hpo_space())
    assert list(study.trials[0].distributions.items()) == [
        ("num_layers", IntDistribution(3, 3)),  # fixed by the test, to see every layer
        *[(f"units_{i}", IntDistribution(32, 512, step=32)) for i in range(3)],
        ("activation", Cat(["relu", "tanh", "sigmoid"])),
        ("dropout", FloatDistribution(0.0, 0.5, step=0.1)),
        ("learning_rate", Cat([0.001, 0.01, 0.1])),
    ]


def test_keras_tuner_values_become_an_optuna_trial_with_the_same_params():
    values = {"num_layers": 2, "units_0": 64, "units_1": 512, "activation": "tanh",
              "dropout": 0.30000000000000004, "learning_rate": 0.01}  # fmt: skip
    trial = as_finished_trial(values, 0.9, hpo_space())
    assert trial.params == values and trial.value == 0.9
    assert set(trial.distributions) == set(values)


def test_a_journal_cut_mid_line_and_its_stale_lock_are_repaired(tmp_path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path = tmp_path / "journal.log"
    study = optuna.create_study(storage=JournalStorage(JournalFileBackend(str(path))))
    study.tell(study.ask(), 1.0)
    path.write_bytes(path.read_bytes() + b'{"op_code": 4, "worker_id"')  # killed mid-write
    (tmp_path / "journal.log.lock").symlink_to(path)
    _repair_journal(path)
    assert path.read_bytes().endswith(b"\n") and not (tmp_path / "journal.log.lock").exists()
    again = optuna.load_study(
        study_name=None, storage=JournalStorage(JournalFileBackend(str(path)))
    )
    again.tell(again.ask(), 2.0)  # appends after the repair, and reads back
    assert [t.value for t in again.trials] == [1.0, 2.0]


def test_all_names_every_tuner_once():
    assert parse_tuners("all") == tuner_names()
    assert parse_tuners("random,all") == ["random", *[t for t in tuner_names() if t != "random"]]
    assert {"tpe", "cmaes", "sobol", "gp", "bohb", "hyperband-bayesian"} <= set(tuner_names())


def test_gp_without_pytorch_is_refused_in_one_line_naming_the_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    get_tuner.cache_clear()
    try:
        with pytest.raises(HpoError, match=r"^tuner 'gp' needs torch.*keras-hpo-bench\[gp\]"):
            get_tuner("gp")
    finally:
        get_tuner.cache_clear()


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_hybrid_spends_whole_hyperband_brackets_then_full_trials_within_the_budget(profile):
    p = get_profile(profile)
    oracle = get_tuner("hyperband-bayesian").make_oracle(TunerContext(1, p, "val_accuracy"))
    budget = p.max_trials * p.epochs
    brackets = range(oracle._get_num_brackets() - 1, -1, -1)[: oracle.exploration_brackets]
    explored = sum(bracket_cost(p.epochs, FACTOR, b) for b in brackets)
    assert explored <= budget / 2 or oracle.exploration_brackets == 1
    plan = planned_budget("hyperband-bayesian", p)
    assert budget - p.epochs < plan.epochs <= budget  # the rest: whole full-epoch trials
    assert (plan.epochs - explored) % p.epochs == 0


def test_the_hybrids_paper_plan():
    # Hyperband's brackets 3 and 2 (74 trials, 437 epochs), then 16 GP trials of 50 epochs.
    assert planned_budget("hyperband-bayesian", get_profile("paper")) == Budget(90, 437 + 16 * 50)


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["smoke", "quick"])
def test_the_hybrids_plan_is_what_a_dry_run_of_its_oracle_trains(profile):
    p = get_profile(profile)
    oracle = get_tuner("hyperband-bayesian").make_oracle(
        TunerContext(oracle_seed(0), p, "val_accuracy")
    )
    assert dry_run(oracle) == planned_budget("hyperband-bayesian", p)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    return {
        t: reference_run(Cell.of(t, 3, "smoke"), tmp_path_factory.mktemp("cell"))
        for t in ["sobol", "cmaes"]
    }


@pytest.mark.slow
@pytest.mark.parametrize("tuner", ["sobol", "cmaes"])
def test_a_kill_before_any_trial_write_or_any_tell_resumes_exactly(tuner, references):
    """Sobol keeps its position in the sequence, CMA-ES its optimiser, in the study: a
    trial Optuna handed out or was not told of when the search died must not shift them."""
    expected, counts = references[tuner]
    kills = [("trial.json", n) for n in range(1, counts["trial.json"] + 1)]
    kills += [("tell", n) for n in range(1, expected.trials_completed + 1)]
    tell = OptunaOracle._tell
    for kind, n in kills:
        told = 0

        def dying_tell(self, *args, _n=n, _kind=kind):
            nonlocal told
            told += 1
            if _kind == "tell" and told == _n:
                raise Killed(f"before tell {told}")
            return tell(self, *args)

        with tempfile.TemporaryDirectory() as workdir:
            kill_at = (kind, n) if kind != "tell" else None
            with (
                pytest.raises(Killed),
                counting_writes(kill_at=kill_at),
                mock.patch.object(OptunaOracle, "_tell", dying_tell),
            ):
                run_cell(Cell.of(tuner, 3, "smoke"), workdir, resume=True)
            resumed = run_cell(Cell.of(tuner, 3, "smoke"), workdir, resume=True)
        assert resumed.without_times() == expected.without_times(), (kind, n)


@pytest.mark.slow
def test_bohb_proposes_from_tpe_once_a_budget_has_enough_results_and_resumes_exactly(
    monkeypatch, tmp_path
):
    """On smoke, 3 one-epoch results precede the last bracket: with min_points 3 and no
    random share, that bracket's configurations come from TPE."""
    from hpo.tuners import _multifidelity, bohb

    monkeypatch.setattr(bohb, "MIN_POINTS", 3)
    monkeypatch.setattr(bohb, "RANDOM_FRACTION", 0.0)
    proposals = []
    propose = _multifidelity.BOHBOracle._proposal

    def counted(self, observed, seed):
        proposals.append(len(observed))
        return propose(self, observed, seed)

    monkeypatch.setattr(_multifidelity.BOHBOracle, "_proposal", counted)
    cell = Cell.of("bohb", 3, "smoke")
    expected = run_cell(cell, tmp_path / "straight")
    assert proposals == [3, 3]  # bracket 0's two configurations, each from 3 results
    hyperband = run_cell(Cell.of("hyperband", 3, "smoke"), tmp_path / "hyperband")
    assert [h.hyperparameters for h in expected.history][-2:] != [
        h.hyperparameters for h in hyperband.history
    ][-2:]
    with pytest.raises(Killed), counting_writes(kill_at=("trial.json", 9)):
        run_cell(cell, tmp_path / "killed", resume=True)
    resumed = run_cell(cell, tmp_path / "killed", resume=True)
    assert resumed.without_times() == expected.without_times()


@pytest.mark.slow
@pytest.mark.parametrize("tuner", ["tpe", "cmaes", "sobol", "gp", "bohb", "hyperband-bayesian"])
def test_a_failed_trial_is_recorded_and_the_search_goes_on(tuner, tmp_path):

    r = run_cell(Cell.of(tuner, 0, "smoke"), tmp_path, hypermodel=Diverging(lambda n: n == 2))
    assert r.trials_failed == 1 and r.trials_completed >= 2
    assert r.history[1].status == "FAILED" and "diverged" in r.history[1].error
    journal = tmp_path / f"{get_tuner(tuner).project}" / "optuna-journal.log"
    if journal.exists():  # Optuna was told: the failed trial is FAIL, the others COMPLETE
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        study = optuna.load_study(
            study_name="hpo", storage=JournalStorage(JournalFileBackend(str(journal)))
        )
        states = [t.state.name for t in study.trials]
        assert states == ["COMPLETE", "FAIL", "COMPLETE"]


@pytest.mark.parametrize("tuner", ["nsga2", "motpe"])
def test_a_multi_objective_study_is_told_score_and_size(tuner, tmp_path):
    """Optuna's study has two directions and learns each trial's score and model size; Keras
    Tuner's best trial (the cell's best model) is still the best score."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from hpo.analysis.pareto import size
    from hpo.experiment.tasks import get_task

    record = run_cell(Cell.of(tuner, 2, "smoke", "wine"), tmp_path)
    (journal,) = tmp_path.rglob("optuna-journal.log")
    study = optuna.load_study(
        study_name="hpo", storage=JournalStorage(JournalFileBackend(str(journal)))
    )
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    told = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(told) == record.trials_completed == len(record.history)
    task = get_task("wine")
    for trial, entry in zip(told, record.history, strict=True):
        assert trial.values == pytest.approx([entry.val_accuracy, size(entry.params, task)])
    assert record.best_val_accuracy == max(h.val_accuracy for h in record.history)
    assert record.pareto and all(p.params > 0 for p in record.pareto)
