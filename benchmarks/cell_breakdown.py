"""Where one cell's time goes: TensorFlow's import, the graph engine's epochs, and the rest.

python benchmarks/cell_breakdown.py --tuner random --seed 0 --profile paper

Runs the cell in this process (graph engine) with a clock around each call of
its epoch graphs and prints one JSON line, in seconds: TensorFlow's import; the
cell (search, test evaluation, record); its search; tracing the graphs; their
first calls (each instantiates its graph and trains one epoch); every other
epoch (the arithmetic); and what is left of the search (Keras Tuner's work per
trial: building each model, its checkpoint, the oracle's state; and hpo's log).
A speed goal's floor is the import plus the arithmetic: no change to the
per-trial machinery gets a cell below it.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any


class TimedGraph:
    """An epoch graph (a ConcreteFunction) whose calls by hpo.engines.graph.train are timed."""

    def __init__(self, graph: Any, clock: dict[str, float]) -> None:
        self.graph, self.clock, self.called = graph, clock, False
        self.captured_inputs = graph.captured_inputs
        self.inference_fn = self  # train() calls graph.inference_fn.call_preflattened

    def call_preflattened(self, inputs: list[Any]) -> Any:
        start = time.perf_counter()
        out = self.graph.inference_fn.call_preflattened(inputs)
        out[-1].numpy()  # wait for the epoch (train() reads these metrics at once anyway)
        spent = time.perf_counter() - start
        self.clock["first_calls_s" if not self.called else "epochs_s"] += spent
        self.clock["epochs"] += self.called
        self.called = True
        return out


def main() -> None:
    from hpo.experiment.tasks import TASKS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuner", default="random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--task", default="breast_cancer", help=f"one of {', '.join(TASKS)}")
    args = parser.parse_args()

    start = time.perf_counter()
    from hpo.run.runtime import import_tensorflow_quietly

    import_tensorflow_quietly()
    import_s = time.perf_counter() - start

    from hpo.engines import graph as graphfit
    from hpo.errors import HpoError
    from hpo.run.cell import Cell, run_cell

    try:
        cell = Cell.of(args.tuner, args.seed, args.profile, args.task, "graph")
    except HpoError as e:
        parser.error(str(e))  # one line, exit 2

    clock = {"trace_s": 0.0, "first_calls_s": 0.0, "epochs_s": 0.0, "epochs": 0, "graphs": 0}
    traced = graphfit.epoch_graph
    timed: dict[tuple[Any, ...], TimedGraph] = {}

    def epoch_graph(*key: Any) -> TimedGraph:
        if key not in timed:  # traced now, once per process (epoch_graph is cached)
            start = time.perf_counter()
            timed[key] = TimedGraph(traced(*key), clock)
            clock["trace_s"] += time.perf_counter() - start
            clock["graphs"] += 1
        return timed[key]

    graphfit.epoch_graph = epoch_graph  # train() looks it up at each call
    start = time.perf_counter()
    record = run_cell(cell)
    cell_s = time.perf_counter() - start
    graph_s = clock["trace_s"] + clock["first_calls_s"] + clock["epochs_s"]
    print(
        json.dumps(
            {
                "cell": cell.label,
                "import_s": round(import_s, 2),
                "cell_s": round(cell_s, 2),
                "search_s": round(record.wall_time_s, 2),
                **{k: round(v, 2) if isinstance(v, float) else v for k, v in clock.items()},
                "rest_of_search_s": round(record.wall_time_s - graph_s, 2),
                "floor_s": round(import_s + clock["epochs_s"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
