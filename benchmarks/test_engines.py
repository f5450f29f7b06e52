"""The graph engine against Keras' fit, over seeds: the same science with dropout on.

Without dropout the engines train identical weights (tests/test_graphfit.py).
With dropout their masks differ by construction, so equivalence is statistical:
per tuner, over the selected seeds (at least 10), the two engines' test
accuracies, as counts of correct rows paired by seed, must not differ
significantly (two-sided Wilcoxon, 5 %) and their mean must differ by less
than one test row. Opt-in, like the peer comparison:

    pytest benchmarks/test_engines.py --hpo-peer --hpo-profile quick --hpo-seeds 0-9

Records go to the session's cells folder (one per engine, named apart), so a
second run reuses them and the graph-engine cells of `pytest benchmarks` too.
"""

from __future__ import annotations

import numpy as np
import pytest

from hpo.analysis.stats import correct_rows, wilcoxon_p
from hpo.experiment.profiles import ENGINES
from hpo.plugin import hpo_session, selection
from hpo.run.cell import Cell

pytestmark = pytest.mark.hpo_peer
MIN_SEEDS = 10
ALPHA = 0.05


def test_engines_agree(hpo_tuner, hpo_profile, pytestconfig, request):
    seeds = selection(pytestconfig).seeds
    if len(seeds) < MIN_SEEDS:
        pytest.fail(f"needs at least {MIN_SEEDS} seeds (--hpo-seeds), got {len(seeds)}")
    rows: dict[str, list[int]] = {engine: [] for engine in ENGINES}
    for seed in seeds:
        for engine in ENGINES:
            cell = Cell.of(hpo_tuner, seed, hpo_profile, engine=engine)
            record, _ = hpo_session(pytestconfig).run_cell(cell)
            assert record.engine == engine
            rows[engine].extend(correct_rows([record.test_accuracy], record.n_test).tolist())
    graph, keras = np.array(rows["graph"]), np.array(rows["keras"])
    p = wilcoxon_p(graph, keras)
    mean_difference = float(np.mean(graph - keras))
    line = (
        f"engines {hpo_tuner} {hpo_profile}, {len(seeds)} seeds: test rows correct, graph"
        f" {graph.mean():.2f} vs keras {keras.mean():.2f} (mean difference"
        f" {mean_difference:+.2f} rows, Wilcoxon p = {p:.3f}; per seed graph - keras:"
        f" {(graph - keras).tolist()})"
    )
    request.node.user_properties.append(("hpo_cell_line", line))
    print("\n" + line)
    assert p >= ALPHA, f"the engines differ significantly: {line}"
    assert abs(mean_difference) < 1, f"the engines' means differ by a test row or more: {line}"
