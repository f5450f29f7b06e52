"""Every part of Keras Tuner that hpo reaches and Keras Tuner does not publish, in one place.

Keras Tuner's public API (`keras_tuner.Oracle`, `Tuner`, `HyperParameters`,
`keras_tuner.engine.trial`) is used where it is needed; what lies under `keras_tuner.src`
or behind an underscore is reached only through the names below, so an upgrade that moves
one breaks here, and `tests/test_keras_tuner_internals.py` names what moved.

Why each is needed:
- `SaveBestEpoch`, `TunerCallback`: the graph engine reports epochs to the tuner and keeps
  the best epoch's weights exactly as Keras Tuner's own `fit` does.
- `save_json` (patched for a block): Keras Tuner's state written atomically, so a search
  killed mid-write resumes.
- `HyperParameters.ensure_active_values` (patched for a block): no unseeded value for a
  hyperparameter declared after the trial's values were drawn.
- the oracle's project folder, its saving of trials and its retry queue: a replay's oracle
  keeps no files; a reloaded project is tidied to what its saved state says.
- `LOCKS` and `THREADS`: Keras Tuner keeps every oracle it ever locked; released after a
  cell so a process running many cells does not keep them all.
- the direction Keras Tuner infers for a metric: a replay registers it once per name.
"""

from __future__ import annotations

from typing import Any

from keras_tuner.src import utils as kt_utils
from keras_tuner.src.engine import oracle as oracle_module
from keras_tuner.src.engine.hyperparameters import hyperparameters as hp_module
from keras_tuner.src.engine.metrics_tracking import MetricsTracker
from keras_tuner.src.engine.tuner_utils import SaveBestEpoch, TunerCallback

__all__ = [
    "HyperParameters",
    "SaveBestEpoch",
    "TunerCallback",
    "forget_oracle",
    "infer_direction",
    "json_writer",
    "project_dir",
    "retry_queue",
    "set_json_writer",
    "set_project_dir",
    "stop_saving_trials",
]

HyperParameters = hp_module.HyperParameters  # its ensure_active_values is patched for a block
# Private methods of Keras Tuner's classes that hpo's subclasses override or call (a
# subclass reaches them by inheritance, so they cannot all be routed through here); the
# test checks each is still there.
INHERITED = {
    "Tuner": ("_try_build", "_build_hypermodel"),
    "Oracle": (
        "_set_project_dir",
        "_save_trial",
        "_random_values",
        "_duplicate",
        "_compute_values_hash",
    ),
    "HyperbandOracle": ("_get_num_brackets",),
    "BayesianOptimizationOracle": (
        "_random_populate_space",
        "_make_gpr",
        "_vectorize_trials",
        "_vector_to_values",
        "_get_hp_bounds",
    ),
}
# Private attributes of an oracle that hpo reads or sets.
ORACLE_ATTRIBUTES = ("_project_dir", "_retry_queue", "_max_collisions")


def json_writer() -> Any:
    """Keras Tuner's writer of its JSON state (`keras_tuner.src.utils.save_json`)."""
    return kt_utils.save_json


def set_json_writer(writer: Any) -> None:
    """Replace Keras Tuner's writer of its JSON state (restore it with `json_writer()`'s)."""
    kt_utils.save_json = writer


def set_project_dir(oracle: Any, directory: str, project: str) -> None:
    """Give an oracle a folder for its state, as a Tuner does when it is built."""
    oracle._set_project_dir(directory, project)


def project_dir(oracle: Any) -> str:
    """The folder an oracle keeps its state in."""
    return str(oracle._project_dir)


def stop_saving_trials(oracle: Any) -> None:
    """Let an oracle write no trial files (a replay's: it is rerun, never resumed)."""
    oracle.save = lambda: None
    oracle._save_trial = lambda trial: None


def retry_queue(oracle: Any) -> list[str]:
    """The trials a reloaded oracle will hand out again (it may be replaced in place)."""
    return list(oracle._retry_queue)


def set_retry_queue(oracle: Any, trial_ids: list[str]) -> None:
    oracle._retry_queue = trial_ids


HYPERBAND_STATE = (
    "_brackets",
    "_current_bracket",
    "_current_iteration",
    "_seed_state",
    "_tried_so_far",
    "_id_to_hash",
)


def hyperband_state(oracle: Any) -> dict[str, Any]:
    """A copy of what a Hyperband oracle's `populate_space` changes: its brackets and the
    random draws' state (to take a proposal back: `set_hyperband_state`)."""
    import copy

    return {name: copy.deepcopy(getattr(oracle, name)) for name in HYPERBAND_STATE}


def set_hyperband_state(oracle: Any, state: dict[str, Any]) -> None:
    for name, value in state.items():
        setattr(oracle, name, value)


def forget_oracle(oracle: Any) -> None:
    """Drop the module-level references Keras Tuner keeps to every oracle it locked."""
    oracle_module.LOCKS.pop(oracle, None)
    oracle_module.THREADS.pop(oracle, None)


def infer_direction(objective: Any, name: str) -> str:
    """The direction ("min" or "max") Keras Tuner's `update_trial` gives metric `name`
    (it deserialises a Keras metric of that name, unless it is the objective)."""
    probe = MetricsTracker()
    inferred = oracle_module._maybe_infer_direction_from_objective(objective, name)
    probe.register(name, direction=inferred)
    return str(probe.metrics[name].direction)
