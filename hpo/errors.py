"""The exception types the CLI and the plugin turn into one error line, and their exit codes."""

from __future__ import annotations

EXIT_STOPPED = 1  # a search stopped itself: too many trials in a row failed
EXIT_BAD_INPUT = 2  # bad input or an unusable file: one `hpo: error:` line, no traceback


class HpoError(Exception):
    """Bad input or an unusable file: the message names the problem in one line."""


class CellStopped(HpoError):
    """Keras Tuner stopped a search because too many trials in a row failed."""
