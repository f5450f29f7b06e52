"""Made-up cell records, for tests of what reads records (the report, the gate, the store)."""

from __future__ import annotations

from typing import Any


def made_up_record(**overrides: Any) -> dict[str, Any]:
    """A valid record of a random-search smoke cell on Breast Cancer, as JSON data; any field
    can be replaced. Its numbers are invented: use it only where a test knows the answer."""
    record: dict[str, Any] = {
        "tuner": "random",
        "seed": 0,
        "profile": "smoke",
        "best_val_accuracy": 0.97,
        "best_val_loss": 0.1,
        "test_accuracy": 0.95,
        "test_loss": 0.12,
        "wall_time_s": 3.0,
        "trials_completed": 3,
        "trials_failed": 0,
        "epochs_trained": 9,
        "best_hyperparameters": {"num_layers": 1},
        "history": [
            {
                "trial_id": "0",
                "status": "COMPLETED",
                "val_accuracy": 0.97,
                "epochs": 3,
                "elapsed_s": 1.0,
            }
        ],  # fmt: skip
        "n_train": 364,
        "n_val": 91,
        "n_test": 114,
    }
    record.update(overrides)
    return record
