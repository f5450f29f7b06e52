"""One tuner across k workers in the report (`hpo.analysis.workers`), on made-up records
with known answers (never presented as measured)."""

from __future__ import annotations

import pytest

from hpo.analysis.summary import summarize
from hpo.analysis.tasks import judged_tasks
from hpo.analysis.workers import across_workers, as_arms
from hpo.errors import HpoError
from hpo.experiment.results import CellResult, Results, load_results, write_json
from hpo.testing.records import made_up_record
from tests.helpers import trials_every


def record(tuner: str, seed: int, workers: int, scores: list[float], second: float):
    """Trials ending every `second` seconds (k workers: a k-th of one worker's second)."""
    history = trials_every(scores, second)
    return CellResult.from_dict(
        made_up_record(tuner=tuner, seed=seed, task="wine", workers=workers, history=history,
                       trials_completed=len(scores), epochs_trained=len(scores),
                       wall_time_s=second * len(scores),
                       test_accuracy=(30 + seed % 3) / 36, n_test=36)
    )  # fmt: skip


SCORES = [0.5, 0.7, 0.8, 0.9]


def cells() -> list[CellResult]:
    # One worker: a trial a second; four workers: four times as fast, the same trials.
    return [record("random", s, k, SCORES, 1.0 / k) for k in (1, 4) for s in range(8)] + [
        record("tpe", s, 1, SCORES, 1.0) for s in range(8)
    ]


def test_speed_up_and_time_to_the_one_worker_result_are_known() -> None:
    ac = across_workers({"wine": cells()}, judged_tasks(cells()))
    assert ac is not None and list(ac["per_task"]["wine"]) == ["random"]  # tpe: one k only
    one, four = ac["per_task"]["wine"]["random"]
    assert (one["workers"], four["workers"]) == (1, 4)
    assert one["speedup"] == 1.0 and four["speedup"] == pytest.approx(4.0)
    assert one["median_time_s"] == 4.0 and four["median_time_s"] == 1.0
    # The target: every one-worker search ends at 0.9, reached with the fourth trial.
    assert one["target"] == pytest.approx(0.9)
    assert one["median_time_to_target_s"] == 4.0
    assert four["median_time_to_target_s"] == pytest.approx(1.0)
    assert four["reached"] == 8


def test_records_at_several_k_are_compared_as_arms_of_their_own(tmp_path) -> None:
    results = Results(cells=cells())
    named = as_arms(results)
    assert sorted({c.tuner for c in named.cells}) == ["random", "random@4", "tpe"]
    summary = summarize(results).to_json()
    assert summary["tuners"] == ["random", "random@4", "tpe"]
    assert summary["workers"]["per_task"]["wine"]["random"][1]["speedup"] == pytest.approx(4.0)
    # Time pairs see the speed-up; the same trials give the same test scores.
    pair = next(p for p in summary["pairs"] if {p["a"], p["b"]} == {"random", "random@4"}
                and p["metric"] == "wall_time_s")  # fmt: skip
    assert abs(pair["mean_difference"]) == pytest.approx(3.0)
    # One k alone: tuners keep their plain names.
    alone = Results(cells=[c for c in cells() if c.workers == 1])
    assert as_arms(alone) is alone


def test_a_cell_at_two_k_is_not_a_duplicate_but_twice_at_one_k_is(tmp_path) -> None:
    a, b = cells()[0], cells()[8]
    assert (a.seed, a.workers, b.seed, b.workers) == (0, 1, 0, 4)
    write_json(tmp_path / "a.json", a.to_dict())
    write_json(tmp_path / "b.json", b.to_dict())
    write_json(tmp_path / "c.json", a.to_dict())
    assert len(load_results([tmp_path / "a.json", tmp_path / "b.json"]).cells) == 2
    with pytest.raises(HpoError, match="appears twice"):
        load_results([tmp_path / "a.json", tmp_path / "c.json"])
