"""Replaying a search against a table of real trainings (`hpo.tables`): no model is trained.

`replay_cell(table, tuner, seed)` runs any tuner -- every built-in one, an
installed one, MODULE:ATTR -- against a table and returns the cell's record in
the schema of a live one (`CellResult`), marked `replay` with the table's file
name, its hash, the seed rule and the epochs looked up per row. `hpo run --replay TABLE` and `pytest
benchmarks --hpo-replay TABLE` call it.

- The space: the table's grid, declared as Keras Tuner `Choice`s named as hpo's
  space names them (`hpo.replay.space.declare_grid`). The task is the table's,
  the profile too unless one of fewer epochs is given (each row's first epochs
  are looked up). A configuration outside the grid is refused in one line.
- The seed rule: trial k (its creation index, Keras Tuner's trial id) of cell
  seed s trains with the table seed

      seeds[SeedSequence([s, k]).generate_state(1)[0] % len(seeds)]

  (`hpo.replay.space.table_seed`), so trial k of every tuner on a seed trains
  with the same seed (common random numbers, as `hpo.tuners.trial_seed` gives
  live runs). A Hyperband continuation (a trial with `tuner/trial_id`) uses its
  parent's seed: it continues its parent's curve.
- Each trial's epochs are looked up: epochs 0..E-1 of its row, or for a
  multi-fidelity trial `tuner/initial_epoch`..`tuner/epochs`-1. The oracle is
  told what Keras Tuner's Tuner tells it after a live trial: the metrics (loss,
  accuracy, val_loss, val_accuracy; loss and val_loss for regression) of the
  trial's best epoch, once. A row that diverged fails the trial at that epoch,
  with the live engine's message.
- The clock is simulated: a trial takes the table's recorded training time of
  the epochs it trained (`epoch_time_s`, which includes the validation pass),
  and `elapsed_s` and `wall_time_s` are those times summed. Building models and
  the oracle's own decisions are not on it (they are on a live run's clock).
- The best model's test score and loss are the table's at the best trial's
  best epoch (the epoch whose weights a live run reloads and judges).
- Hyperband convention (tabular, as NAS-Bench and Syne Tune's blackboxes): a
  continued trial's epochs are its parent's row's next epochs, as if training
  had gone on. Live Keras Tuner Hyperband instead reloads the parent's *best*
  epoch checkpoint and starts a fresh Adam optimiser, so its continued curves
  differ from a replay's; full-fidelity tuners replay exactly what they would
  train live (tests/test_replay.py checks this against a live search).
- The split: a table holds one split (its `split_seed`), whereas a live cell
  of seed s trains on seed s's split. A replay on seed s uses the table's
  split; seeds vary the tuner's draws and the trials' training seeds only.
"""

from __future__ import annotations

from hpo.replay.loop import ReplayTiming, check_table, replay_cell
from hpo.replay.space import SEED_RULE, declare_grid, table_seed

__all__ = ["SEED_RULE", "ReplayTiming", "check_table", "declare_grid", "replay_cell", "table_seed"]
