"""Untuned references per seed, on the same splits as the tuners, for the report."""

from __future__ import annotations

from hpo.baselines import baseline_scores


def test_baselines(benchmark, seed, hpo_baselines):
    benchmark.group = "baselines"
    scores = benchmark.pedantic(baseline_scores, args=(seed,), rounds=1, iterations=1)
    benchmark.extra_info["baseline"] = scores
    hpo_baselines.append(scores)
    assert 0.5 < scores["logistic_regression"] <= 1.0
