"""Keras Tuner's `Oracle` contract, kept by hpo's oracles on a space other than hpo's own.

Each oracle is driven as a tuner drives it (create_trial, update_trial,
end_trial) with made-up scores, on a small convolutional model's space declared
here: a stepped Int, a log-sampled Float, a Boolean, a Fixed, a Choice and a
stepped Float under a conditional scope. No model is trained. The numbered
points are the ways the contract broke before: (1) the declared space is
searched and a finite one runs out with STOPPED; (2) end_trial holds the
oracle's lock and accepts both of Keras Tuner's calling forms; (3) a plain
Keras Tuner reload, whatever order it lists the trials in, proposes what the
uninterrupted search proposed; (4) hyperband-bayesian ends when its refinement
has no new configuration, and never hands out one it tried.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras_tuner as kt
import optuna
import pytest

from hpo.errors import HpoError
from hpo.experiment.profiles import get_profile
from hpo.tuners import TunerContext, get_tuner, oracle_seed
from hpo.tuners._multifidelity import BOHBOracle, HyperbandBayesianOracle
from hpo.tuners._optuna_oracle import DUPLICATE, OptunaOracle

OPTUNA_TUNERS = ["tpe", "cmaes", "sobol", "gp", "nsga2", "motpe"]
ALL_TUNERS = [*OPTUNA_TUNERS, "bohb", "hyperband-bayesian"]
PROFILE = get_profile("quick")  # 10 trials of 15 epochs: Optuna's samplers leave start-up
RUNNING = kt.engine.trial.TrialStatus.RUNNING
STOPPED = kt.engine.trial.TrialStatus.STOPPED

Declare = Callable[[Any], None]


def convnet_space(hp: Any) -> None:
    """A small convolutional model's space: every kind the adapter translates."""
    hp.Int("filters", 8, 64, step=8)
    hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    hp.Boolean("batch_norm")
    hp.Fixed("kernel_size", 3)
    hp.Choice("optimizer", ["adam", "sgd"])
    with hp.conditional_scope("optimizer", ["sgd"]):
        hp.Float("momentum", 0.0, 0.9, step=0.1)


def six_configurations(hp: Any) -> None:
    """A finite space of 2 x (1 + 2) configurations, one of its values conditional."""
    hp.Boolean("batch_norm")
    hp.Fixed("kernel_size", 3)
    hp.Choice("optimizer", ["adam", "sgd"])
    with hp.conditional_scope("optimizer", ["sgd"]):
        hp.Float("momentum", 0.0, 0.5, step=0.5)


def two_configurations(hp: Any) -> None:
    hp.Boolean("batch_norm")


def make_oracle(tuner: str) -> Any:
    """The tuner's oracle on the quick profile. nsga2's and motpe's samplers are given one
    objective: their second, the model's size, is computed for hpo's own MLP only."""
    if tuner in ("nsga2", "motpe"):
        return OptunaOracle(
            objective="val_accuracy",
            max_trials=PROFILE.max_trials,
            sampler=importlib.import_module(f"hpo.tuners.{tuner}").make_sampler,
            profile=PROFILE,
            seed=oracle_seed(0),
        )
    return get_tuner(tuner).make_oracle(TunerContext(oracle_seed(0), PROFILE, "val_accuracy"))


def made_up_score(values: dict[str, Any], index: int) -> float:
    """A score that depends on the values (for the model-based samplers) and the trial."""
    score = 0.5 + values.get("filters", 0) / 200 - abs(values.get("momentum", 0.5) - 0.5)
    score += 0.1 * values.get("batch_norm", False) + (index % 7) / 100
    return round(score, 6)


def start(oracle: Any, directory: Path, declare: Declare) -> Any:
    """What a Keras Tuner tuner does to its oracle before the first trial."""
    oracle._set_project_dir(str(directory), "contract")
    hp = oracle.get_space()
    declare(hp)
    oracle.update_space(hp)
    oracle.verbose = 0
    return oracle


def drive(
    oracle: Any, trials: int = 1000, proposed: dict[str, dict[str, Any]] | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Run up to `trials` trials with made-up scores; their values and the last status.

    `proposed` (trial id -> values) goes on from an earlier drive: a trial run
    again (after a reload Keras Tuner retries the trial its saved state lists
    as running, the last one ended) counts once.
    """
    proposed = {} if proposed is None else proposed
    status = RUNNING
    while len(proposed) < trials:
        trial = oracle.create_trial("tuner0")
        status = trial.status
        if status != RUNNING:
            break
        values = dict(trial.hyperparameters.values)
        assert proposed.get(trial.trial_id, values) == values
        proposed[trial.trial_id] = values
        score = made_up_score(values, len(oracle.trials))  # the same after a reload
        oracle.update_trial(trial.trial_id, {"val_accuracy": score})
        trial.status = kt.engine.trial.TrialStatus.COMPLETED
        oracle.end_trial(trial)
    return list(proposed.values()), status


def configuration(values: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v) for k, v in values.items() if not k.startswith("tuner/")))


def new_configurations(proposed: list[dict[str, Any]]) -> list[tuple[tuple[str, Any], ...]]:
    """The configurations handed out as new (not Hyperband's promotions of a trial)."""
    return [configuration(v) for v in proposed if "tuner/trial_id" not in v]


def assert_in_convnet_space(values: dict[str, Any]) -> None:
    expected = {"filters", "learning_rate", "batch_norm", "kernel_size", "optimizer"}
    if values["optimizer"] == "sgd":
        expected.add("momentum")
    assert set(configuration(values)) and {k for k, _ in configuration(values)} == expected
    assert values["filters"] in range(8, 65, 8)
    assert 1e-4 <= values["learning_rate"] <= 1e-1
    assert values["batch_norm"] in (True, False) and values["kernel_size"] == 3
    if "momentum" in values:  # on the grid (Optuna's: as its exact decimal, not a float sum)
        grid = [i / 10 for i in range(10)]
        assert values["momentum"] in grid or min(abs(values["momentum"] - v) for v in grid) < 1e-9


def study_of(directory: Path) -> Any:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    journal = directory / "contract" / "optuna-journal.log"
    storage = JournalStorage(JournalFileBackend(str(journal)))
    return optuna.load_study(study_name="hpo", storage=storage)


# (1) The declared space is searched; a finite one runs out.


@pytest.mark.parametrize("tuner", ALL_TUNERS)
def test_every_tuner_proposes_in_the_declared_space(tuner, tmp_path):
    proposed, _ = drive(start(make_oracle(tuner), tmp_path, convnet_space), trials=12)
    assert len(proposed) >= 10
    for values in proposed:
        assert_in_convnet_space(values)
    assert {v["optimizer"] for v in proposed} == {"adam", "sgd"}  # the condition both ways
    if tuner in OPTUNA_TUNERS:  # Optuna is asked for the active, non-fixed values only
        assert all(v.get("momentum", 0) in [i / 10 for i in range(10)] for v in proposed)
        told = [t for t in study_of(tmp_path).trials if DUPLICATE not in t.user_attrs]
        for trial, values in zip(told, proposed, strict=True):
            assert set(trial.params) == set(values) - {"kernel_size"}


@pytest.mark.parametrize("tuner", ALL_TUNERS)
def test_a_finite_space_runs_out_with_stopped_and_no_configuration_twice(tuner, tmp_path):
    proposed, status = drive(start(make_oracle(tuner), tmp_path, six_configurations))
    assert status == STOPPED
    configurations = new_configurations(proposed)
    assert len(configurations) == len(set(configurations)) == 6
    if tuner in OPTUNA_TUNERS:
        assert len(proposed) == 6 < PROFILE.max_trials


def test_bohb_fits_its_tpe_model_on_the_declared_space(tmp_path, monkeypatch):
    """With no random share and 3 results enough, BOHB's later brackets come from TPE,
    fitted on the trials' values of the declared space (not hpo's MLP)."""
    fitted: list[int] = []
    propose = BOHBOracle._proposal

    def counted(self: BOHBOracle, observed: list[Any], seed: int) -> dict[str, Any]:
        fitted.append(len(observed))
        values = propose(self, observed, seed)
        assert_in_convnet_space(values)
        return values

    monkeypatch.setattr(BOHBOracle, "_proposal", counted)
    oracle = BOHBOracle("val_accuracy", max_epochs=15, factor=3, seed=1, random_fraction=0.0)
    oracle.min_points = 3
    proposed, status = drive(start(oracle, tmp_path, convnet_space))
    assert status == STOPPED and fitted and min(fitted) >= 3
    for values in proposed:
        assert_in_convnet_space(values)


@pytest.mark.parametrize("tuner", [*OPTUNA_TUNERS, "bohb"])
@pytest.mark.parametrize(
    ("declare", "reason"),
    [
        (lambda hp: hp.Float("x", 0.1, 1.0, sampling="reverse_log"), "sampling='reverse_log'"),
        (lambda hp: hp.Int("x", 2, 64, step=2, sampling="log"), "sampling='log' with step=2"),
    ],
)
def test_a_kind_optuna_cannot_ask_is_refused_in_one_line_when_declared(
    tuner, declare, reason, tmp_path
):
    oracle = make_oracle(tuner)
    oracle._set_project_dir(str(tmp_path), "contract")
    hp = oracle.get_space()
    hp.Boolean("fine")
    declare(hp)
    with pytest.raises(HpoError, match=rf"^hyperparameter 'x': {reason}") as refused:
        oracle.update_space(hp)  # what a tuner does with the hypermodel's first build
    assert "\n" not in str(refused.value)
    declared = make_oracle(tuner)  # a space declared on the oracle directly: at the first trial
    declared._set_project_dir(str(tmp_path / "direct"), "contract")
    declare(declared.hyperparameters)
    with pytest.raises(HpoError, match=r"^hyperparameter 'x': "):
        declared.create_trial("tuner0")


@pytest.mark.parametrize("tuner", ["nsga2", "motpe"])
def test_a_size_objective_on_a_space_other_than_hpos_mlp_is_refused_in_one_line(tuner, tmp_path):
    oracle = get_tuner(tuner).make_oracle(TunerContext(oracle_seed(0), PROFILE, "val_accuracy"))
    start(oracle, tmp_path, convnet_space)
    with pytest.raises(HpoError, match=r"^the model-size objective .* hpo's own MLP") as refused:
        oracle.create_trial("tuner0")
    assert "\n" not in str(refused.value)


# (2) end_trial: under the oracle's lock, both calling forms.


@pytest.mark.parametrize("tuner", OPTUNA_TUNERS)
def test_end_trial_tells_optuna_under_the_oracles_lock(tuner, tmp_path, monkeypatch):
    import threading

    from keras_tuner.src.engine import oracle as oracle_module

    held: list[bool] = []
    tell = OptunaOracle._tell

    def checked(self: OptunaOracle, *args: Any) -> None:
        me = threading.current_thread().name
        held.append(oracle_module.LOCKS[self].locked() and oracle_module.THREADS[self] == me)
        tell(self, *args)

    monkeypatch.setattr(OptunaOracle, "_tell", checked)
    drive(start(make_oracle(tuner), tmp_path, convnet_space), trials=2)
    assert held == [True, True]


def _completed(trial: Any) -> Any:
    trial.status = kt.engine.trial.TrialStatus.COMPLETED
    return trial


@pytest.mark.parametrize("tuner", OPTUNA_TUNERS)
@pytest.mark.parametrize(
    "end",
    [
        lambda oracle, trial: oracle.end_trial(_completed(trial)),
        lambda oracle, trial: oracle.end_trial(trial.trial_id, "COMPLETED"),
        lambda oracle, trial: oracle.end_trial(trial.trial_id),
        lambda oracle, trial: oracle.end_trial(trial_id=trial.trial_id, status="COMPLETED"),
    ],
    ids=["trial", "id-status", "id", "keywords"],
)
def test_end_trial_accepts_both_of_keras_tuners_calling_forms(tuner, end, tmp_path):
    oracle = start(make_oracle(tuner), tmp_path, convnet_space)
    for n in range(2):
        trial = oracle.create_trial("tuner0")
        values = dict(trial.hyperparameters.values)
        oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5 + n / 10})
        end(oracle, oracle.trials[trial.trial_id])
        ended = oracle.trials[trial.trial_id]
        assert ended.status == kt.engine.trial.TrialStatus.COMPLETED
        assert ended.hyperparameters.values == values  # the older form keeps the values
        assert not oracle.ongoing_trials
    told = study_of(tmp_path).trials
    assert [t.state.name for t in told] == ["COMPLETE", "COMPLETE"]
    assert [t.values[0] for t in told] == [0.5, 0.6]


class HandPicked(OptunaOracle):
    """A subclass that hands out its own first trial, as Keras Tuner's own test suite's do."""

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        if not self.trials:
            return {"status": RUNNING, "values": {"batch_norm": True}}
        return super().populate_space(trial_id)


def test_ending_a_trial_optuna_never_handed_out_is_one_line_naming_the_cause(tmp_path):
    oracle = HandPicked(
        objective="val_accuracy",
        max_trials=3,
        sampler=lambda seeds, profile: optuna.samplers.RandomSampler(seed=seeds.trial),
        profile=PROFILE,
        seed=oracle_seed(0),
    )
    trial = start(oracle, tmp_path, two_configurations).create_trial("tuner0")
    oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5})
    with pytest.raises(HpoError, match=r"^trial 0 was not asked of Optuna .* populate_space"):
        oracle.end_trial(_completed(trial))  # was: IndexError, deep in the adapter


# (3) A plain Keras Tuner reload proposes what the uninterrupted search proposed.


def resumed(
    tuner: str, directory: Path, declare: Declare, first: int, relist: Callable[[list], list]
) -> list[dict[str, Any]]:
    """`first` trials, then a new oracle reloaded from the folder (Tuner(overwrite=False)),
    its trials listed in `relist` order, runs the rest."""
    proposed: dict[str, dict[str, Any]] = {}
    drive(start(make_oracle(tuner), directory, declare), first, proposed)
    oracle = make_oracle(tuner)
    oracle._set_project_dir(str(directory), "contract")
    oracle.reload()
    oracle.trials = dict(relist(list(oracle.trials.items())))
    hp = oracle.get_space()
    declare(hp)
    oracle.update_space(hp)
    oracle.verbose = 0
    return drive(oracle, proposed=proposed)[0]


@pytest.mark.parametrize("tuner", ALL_TUNERS)
def test_a_reload_listing_the_trials_in_any_order_proposes_the_same(tuner, tmp_path):
    declare = six_configurations if tuner in OPTUNA_TUNERS else convnet_space
    straight, _ = drive(start(make_oracle(tuner), tmp_path / "straight", declare))
    first = 4 if tuner in OPTUNA_TUNERS else len(straight) - 8  # before BOHB's last bracket
    for relist in (list, lambda items: items[::-1]):
        again = resumed(tuner, tmp_path / f"again-{relist is list}", declare, first, relist)
        assert again == straight


def test_bohb_after_a_reload_fits_tpe_on_the_trials_in_creation_order(tmp_path, monkeypatch):
    """The order BOHB gives TPE its observations in is the trials' creation order, whatever
    order the reloaded oracle lists them in (TPE weighs and splits them by that order)."""
    orders: list[list[str]] = []
    propose = BOHBOracle._proposal

    def noted(self: BOHBOracle, observed: list[Any], seed: int) -> dict[str, Any]:
        orders.append([t.trial_id for t in observed])
        return propose(self, observed, seed)

    monkeypatch.setattr(BOHBOracle, "_proposal", noted)
    monkeypatch.setattr(
        importlib.import_module("hpo.tuners.bohb"), "RANDOM_FRACTION", 0.0, raising=True
    )
    resumed("bohb", tmp_path, convnet_space, 20, lambda items: items[::-1])
    assert orders and all(order == sorted(order) for order in orders)


# (4) hyperband-bayesian's refinement ends, and repeats nothing.


@pytest.mark.parametrize("declare", [two_configurations, six_configurations])
def test_the_hybrids_refinement_stops_when_no_configuration_is_left(declare, tmp_path):
    oracle = make_oracle("hyperband-bayesian")
    assert isinstance(oracle, HyperbandBayesianOracle)
    proposed, status = drive(start(oracle, tmp_path, declare))
    assert status == STOPPED
    configurations = new_configurations(proposed)
    assert len(configurations) == len(set(configurations))


def test_the_hybrids_refinement_never_hands_out_a_configuration_it_tried(tmp_path):
    """A space of 40 configurations: more than Hyperband explores, fewer than exploration
    and refinement together would try without a check. The GP's picks converge on the best
    explored one; each refinement trial is a configuration not tried before."""

    def forty(hp: Any) -> None:
        hp.Int("filters", 8, 160, step=8)
        hp.Boolean("batch_norm")

    proposed, status = drive(start(make_oracle("hyperband-bayesian"), tmp_path, forty))
    refined = [v for v in proposed if v.get("tuner/phase") == "refine"]
    assert refined and status == STOPPED
    configurations = new_configurations(proposed)
    assert len(configurations) == len(set(configurations))
