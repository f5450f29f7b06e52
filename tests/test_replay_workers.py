"""Replays shared by k simulated asynchronous workers (`replay_cell(..., workers=k)`): one
worker is the replay as it always was, record for record; any k is deterministic; the
clock is the table's, k trials at a time; an oracle that answers IDLE waits."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from hpo.errors import HpoError
from hpo.replay import replay_cell
from hpo.tables.grid import Grid
from hpo.tables.table import Table
from tests.test_replay import synthetic_table

ROOT = Path(__file__).parents[1]
GOLDEN = ROOT / "tests" / "golden" / "replay-one-worker.json.gz"
TUNERS = ("random", "hyperband", "tpe", "bohb", "bayesian")


@pytest.fixture(scope="module")
def bc() -> Table:
    return Table.load(ROOT / "tables" / "breast_cancer-paper.npz")


def _comparable(record) -> dict:
    d = record.to_dict()
    d["elapsed"] = [h.elapsed_s for h in record.history]
    for key in ("versions", "peak_rss_mb", "calibration_s"):
        d.pop(key)
    for h in d["history"]:
        h.pop("rss_mb")
    return json.loads(json.dumps(d, sort_keys=True))


def test_one_worker_is_the_replay_as_it_was_record_for_record(bc: Table) -> None:
    """The records the replay loop made before it had workers (tests/golden, made by the
    code of 031ffb6), simulated times included, bit for bit."""
    with gzip.open(GOLDEN, "rt") as fh:
        frozen = json.load(fh)
    assert len(frozen) == 2 * len(TUNERS)
    for key, expected in frozen.items():
        tuner, seed = key.rsplit("-", 1)
        record = replay_cell(bc, tuner, int(seed), profile="quick", workers=1)
        assert record.workers == 1
        assert _comparable(record) == expected, key


@pytest.mark.parametrize("workers", [2, 4, 8])
def test_any_number_of_workers_gives_the_same_record_for_the_same_seed(bc, workers) -> None:
    for tuner in TUNERS:
        first = replay_cell(bc, tuner, 3, profile="quick", workers=workers)
        again = replay_cell(bc, tuner, 3, profile="quick", workers=workers)
        assert first.workers == workers
        assert _comparable(first) == _comparable(again), tuner


def test_trials_overlap_k_at_a_time_on_the_tables_clock(tmp_path: Path) -> None:
    """Every epoch takes exactly 1 s (a made-up table): 3 trials of 3 epochs each on 2
    workers end at 3, 3 and 6 s; random search's 3 trials on 1 worker at 3, 6, 9 s."""
    table = synthetic_table(tmp_path / "t.npz", Grid(num_layers=(1,), units=(32, 128)))
    arrays = dict(np.load(tmp_path / "t.npz"))
    arrays["epoch_time_s"][...] = 1.0
    meta = json.loads(str(arrays.pop("meta")))
    from hpo.tables.table import write_table

    write_table(tmp_path / "t.npz", arrays, meta)
    table = Table.load(tmp_path / "t.npz")
    one = replay_cell(table, "random", 0, workers=1)
    two = replay_cell(table, "random", 0, workers=2)
    many = replay_cell(table, "random", 0, workers=8)
    assert [h.elapsed_s for h in one.history] == [3.0, 6.0, 9.0] and one.wall_time_s == 9.0
    assert [h.elapsed_s for h in two.history] == [3.0, 3.0, 6.0] and two.wall_time_s == 6.0
    assert [h.elapsed_s for h in many.history] == [3.0, 3.0, 3.0] and many.wall_time_s == 3.0
    # The same trials, in creation order by their ends (ties by creation): the same ids.
    assert [h.trial_id for h in two.history] == [h.trial_id for h in one.history]
    assert {h.trial_id for h in many.history} == {h.trial_id for h in one.history}


def test_hyperband_waits_for_its_brackets_and_still_trains_its_plan(bc: Table) -> None:
    """Hyperband answers IDLE while a bracket's round waits for its running trials; the
    waiting workers ask again when a trial ends. Every k trains the planned 30 trials, 166
    epochs at quick; more workers never take longer than one does, here."""
    plan = replay_cell(bc, "hyperband", 5, profile="quick", workers=1)
    assert (len(plan.history), plan.epochs_trained) == (30, 166)
    for workers in (2, 4, 8):
        record = replay_cell(bc, "hyperband", 5, profile="quick", workers=workers)
        assert (len(record.history), record.epochs_trained) == (30, 166), workers
        assert record.wall_time_s < plan.wall_time_s
        ends = [h.elapsed_s for h in record.history]
        assert ends == sorted(ends)  # logged as they end


def test_a_bad_worker_count_is_one_line(bc: Table) -> None:
    for bad in (0, -1, 2.5, True):
        with pytest.raises(HpoError, match="workers must be an integer of at least 1"):
            replay_cell(bc, "random", 0, workers=bad)


def _blind_tpe(seeds, profile):
    """`tpe`'s sampler without its constant liar: blind to trials still running."""
    import optuna

    from hpo.tuners.bayesian import initial_points

    return optuna.samplers.TPESampler(
        n_startup_trials=initial_points(profile), seed=seeds.trial, constant_liar=False
    )


def _blind_spec():
    from hpo.tuners import optuna_spec

    return optuna_spec("tpe-blind", _blind_tpe)


BLIND_TPE = _blind_spec()


def test_tpe_knows_about_pending_trials(bc: Table) -> None:
    """TPE's constant liar: on four workers, trials running on the others count as bad when
    the next is proposed, so it proposes otherwise than a TPE blind to them; on one worker
    nothing is running when it proposes, and the two are the same search."""
    blind = f"{__name__}:BLIND_TPE"
    for workers, same in ((1, True), (4, False)):
        liar = replay_cell(bc, "tpe", 0, profile="paper", workers=workers)
        other = replay_cell(bc, blind, 0, profile="paper", workers=workers)
        configs = [[h.hyperparameters for h in r.history] for r in (liar, other)]
        assert (configs[0] == configs[1]) is same, workers
