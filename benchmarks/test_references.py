"""Untuned reference models per seed, on the same splits as the tuners, for the report."""

from __future__ import annotations

from hpo.references import reference_scores


def test_references(benchmark, hpo_seed, hpo_engine, hpo_references):
    benchmark.group = "references"
    scores = benchmark.pedantic(
        reference_scores, args=(hpo_seed,), kwargs={"engine": hpo_engine}, rounds=1, iterations=1
    )
    benchmark.extra_info["reference"] = scores
    hpo_references.append(scores)
    assert 0.5 < scores["logistic_regression"] <= 1.0
