"""Loading what users bring: `MODULE:ATTR` references and installed entry points.

Tuners (`hpo.tuners`) and tasks (`hpo.tasks`) are found the same way, so both
say the same one line when the user's code cannot be loaded.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from hpo.errors import HpoError


def import_here(module: str) -> Any:
    """Import `module`, also from the current folder (as `python -m` would; the `hpo`
    command's own folder is the virtualenv's bin/)."""
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())
    return importlib.import_module(module)


def load(load: Callable[[], Any], what: str) -> Any:
    """`load()`, or a one-line HpoError naming `what` when the user's code fails to import."""
    try:
        return load()
    except Exception as e:  # an import error of the user's code: say whose, in one line
        raise HpoError(f"cannot load {what}: {type(e).__name__}: {e}") from None


def entry_point(group: str, name: str) -> Any | None:
    """The object an installed package registers as `name` in `group`, or None."""
    for ep in entry_points(group=group, name=name):
        return load(ep.load, f"entry point {name!r}")
    return None


def module_attr(reference: str, kind: str) -> Any:
    """The object `MODULE:ATTR` names; HpoError naming the missing module or attribute."""
    module, _, attr = reference.partition(":")
    loaded = load(lambda: import_here(module), f"module {module!r} of {reference!r}")
    if not hasattr(loaded, attr):
        raise HpoError(f"{kind} {reference!r}: module {module!r} has no attribute {attr!r}")
    return getattr(loaded, attr)
