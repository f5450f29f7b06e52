"""What every table grid shares (`hpo.tables.grid.Grid`, hpo's MLP;
`hpo.tables.space_grid.SpaceGrid`, a task's own space): configurations by index and the
grid's canonical JSON."""

from __future__ import annotations

import json
from typing import Any

from hpo.errors import HpoError


class ConfigGrid:
    """What every table grid shares: its configurations by index, and its canonical JSON.

    A subclass gives `_configs` (every configuration, in the grid's order) and `to_json`.
    """

    @property
    def _configs(self) -> tuple[dict[str, Any], ...]:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._configs)

    def configs(self) -> list[dict[str, Any]]:
        """Every configuration, in the grid's order (a fresh list of dicts)."""
        return [dict(c) for c in self._configs]

    def config(self, index: int) -> dict[str, Any]:
        """Configuration number `index` of `configs()`."""
        if not 0 <= index < len(self):
            raise HpoError(f"configuration index {index} is outside the grid (0..{len(self) - 1})")
        return dict(self._configs[index])

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def dumps(self) -> str:
        """The grid's canonical JSON text (one line): what tables record and compare."""
        return json.dumps(self.to_json(), sort_keys=True)
