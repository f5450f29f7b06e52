"""The one exception type the CLI turns into a one-line error and exit code 2."""

from __future__ import annotations


class HpoError(Exception):
    """Bad input or an unusable file: the message names the problem in one line."""


class CellStopped(HpoError):
    """Keras Tuner stopped a search because too many trials in a row failed."""
