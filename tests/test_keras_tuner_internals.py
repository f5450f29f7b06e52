"""What hpo reaches of Keras Tuner beyond its public API (`hpo._keras_tuner`) is still there.

A Keras Tuner upgrade that moves one of these fails here, naming it, instead of deep in a
search. The module is the only one of hpo that imports `keras_tuner.src`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import keras_tuner as kt
import pytest

from hpo import _keras_tuner as internals

HPO = Path(__file__).parents[1] / "hpo"


@pytest.mark.parametrize(
    ("cls", "name"),
    [(cls, name) for cls, names in internals.INHERITED.items() for name in names],
)
def test_each_private_method_hpo_overrides_or_calls_is_there(cls, name):
    owner = getattr(kt.oracles, cls, None) or getattr(kt, cls)
    assert callable(getattr(owner, name, None)), f"keras_tuner {cls}.{name} is gone"


def test_an_oracle_has_the_private_attributes_hpo_reads(tmp_path):
    oracle = kt.oracles.BayesianOptimizationOracle(objective="val_accuracy", max_trials=2, seed=1)
    internals.set_project_dir(oracle, str(tmp_path), "p")
    for name in internals.ORACLE_ATTRIBUTES:
        assert hasattr(oracle, name), f"a Keras Tuner oracle has no {name} any more"
    assert internals.project_dir(oracle) == str(tmp_path / "p")
    assert internals.retry_queue(oracle) == []


def test_the_json_writer_can_be_swapped_and_restored():
    original = internals.json_writer()
    assert callable(original)
    internals.set_json_writer(print)
    try:
        assert internals.json_writer() is print
    finally:
        internals.set_json_writer(original)
    assert internals.json_writer() is original


def test_the_direction_keras_tuner_infers_for_a_metric():
    objective = kt.Objective("val_accuracy", "max")
    assert internals.infer_direction(objective, "val_accuracy") == "max"
    assert internals.infer_direction(objective, "val_loss") == "min"


def test_only_this_module_imports_keras_tuner_src():
    importers = []
    for path in HPO.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(m.startswith("keras_tuner.src") for m in modules):
                importers.append(path.relative_to(HPO.parent).as_posix())
    assert sorted(set(importers)) == ["hpo/_keras_tuner.py"]


def test_a_hyperband_oracle_has_the_state_hpo_takes_back(tmp_path):
    oracle = kt.oracles.HyperbandOracle(objective="val_accuracy", max_epochs=3, seed=1)
    internals.set_project_dir(oracle, str(tmp_path), "p")
    for name in internals.HYPERBAND_STATE:
        assert hasattr(oracle, name), f"Keras Tuner's HyperbandOracle has no {name} any more"
    state = internals.hyperband_state(oracle)
    oracle._brackets.append({"bracket_num": 9, "rounds": [[]]})
    internals.set_hyperband_state(oracle, state)
    assert oracle._brackets == state["_brackets"]
