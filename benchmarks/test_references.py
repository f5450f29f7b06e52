"""Untuned reference models per seed, on the same splits as the tuners, for the report."""

from __future__ import annotations

import pytest

from hpo.experiment.profiles import DEFAULT_TASK
from hpo.plugin import selection
from hpo.run.references import reference_scores


def test_references(benchmark, hpo_seed, hpo_engine, hpo_references, pytestconfig):
    if DEFAULT_TASK not in selection(pytestconfig).tasks:
        pytest.skip(f"the references are {DEFAULT_TASK}'s (not among --hpo-tasks)")
    benchmark.group = "references"
    scores = benchmark.pedantic(
        reference_scores, args=(hpo_seed,), kwargs={"engine": hpo_engine}, rounds=1, iterations=1
    )
    benchmark.extra_info["reference"] = scores
    hpo_references.append(scores)
    assert 0.5 < scores["logistic_regression"] <= 1.0
