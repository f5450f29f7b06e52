"""The options `hpo run` and the pytest plugin share, each declared once.

As pytest-benchmark declares its own (`add_display_options(addoption, prefix)`):
each function below takes an `addoption` callable and a prefix. The `hpo`
command passes argparse's `add_argument` and "" (`--engine`); the plugin passes
pytest's `group.addoption` and "hpo-" (`--hpo-engine`). So each option has one
name, one help text and one default, and `args.engine` in the command is
`config.getoption("hpo_engine")` in a session.

Choices are given to argparse only: it checks them itself (one `hpo: error:`
line, exit 2), whereas pytest's parser would print its own usage error and exit
4. Under pytest the plugin checks the values when the session is configured, in
the same one line and exit code (hpo.errors.EXIT_BAD_INPUT).

Options that only one side has stay where they are used: `--tuner`, `--seed`,
`--task`, `--out` ... in hpo.cli; `--hpo-tuners`, `--hpo-seeds`, `--hpo-tasks`,
`--hpo-peer` ... in hpo.plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hpo.experiment.profiles import DEFAULT_ENGINE, ENGINES, PROFILES

AddOption = Callable[..., Any]
"""argparse's `ArgumentParser.add_argument` or pytest's `OptionGroup.addoption`."""

DEFAULT_PROFILE = "paper"  # the seed report's budget
DEFAULT_MLFLOW = "sqlite:///mlflow.db"  # a local file: no server needed


def _choices(prefix: str, values: Iterable[str], metavar: str) -> dict[str, Any]:
    """`choices` for argparse (no prefix), which lists them in the usage; under pytest, where
    the plugin checks the value, a `metavar` instead."""
    return {"metavar": metavar} if prefix else {"choices": list(values)}


def _words(values: Iterable[str]) -> str:
    """The values as words: a, b or c."""
    *rest, last = values
    return f"{', '.join(rest)} or {last}" if rest else last


def add_cell_options(addoption: AddOption, prefix: str) -> None:
    """What every cell is: its budget profile and what trains its trials."""
    addoption(
        f"--{prefix}profile",
        default=DEFAULT_PROFILE,
        **_choices(prefix, PROFILES, "PROFILE"),
        help=f"budget profile: {_words(PROFILES)} (default: {DEFAULT_PROFILE})",
    )
    addoption(
        f"--{prefix}engine",
        default=DEFAULT_ENGINE,
        **_choices(prefix, ENGINES, "ENGINE"),
        help="what trains the trials: graph (one traced graph for every model) or keras"
        f" (Keras' fit per model, to cross-check); records say which (default: {DEFAULT_ENGINE})",
    )


def workers_type(text: str) -> int:
    """argparse `type` of a worker count: an integer of at least 1 (else one error line)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_run_options(addoption: AddOption, prefix: str) -> None:
    """How cells run: anew or from saved records, here or on a Dask cluster, by how many
    workers."""
    addoption(
        f"--{prefix}force",
        action="store_true",
        help="run anew, ignoring any record or saved state a previous run left",
    )
    addoption(
        f"--{prefix}cluster",
        metavar="ADDRESS",
        default=None,
        help="run on a Dask cluster: its scheduler's address (tcp://HOST:8786), or local:N"
        " to start one here with N workers; the record folder must be shared with its workers",
    )
    addoption(
        f"--{prefix}workers",
        metavar="K",
        default=1,
        **({} if prefix else {"type": int}),  # at least 1: checked by Placement, one line
        help="K workers share each search: Keras Tuner's chief oracle and K workers on"
        " 127.0.0.1, or, replaying a table, K simulated asynchronous workers on the table's"
        " clock (default: 1, one search in one process)",
    )


def add_tracking_options(addoption: AddOption, prefix: str) -> None:
    """Where finished cells are also logged: TensorBoard and MLflow."""
    addoption(
        f"--{prefix}tensorboard",
        metavar="DIR",
        default=None,
        help="also write each trial to DIR for TensorBoard's HParams dashboard",
    )
    addoption(
        f"--{prefix}mlflow",
        metavar="URI",
        nargs="?",
        const=DEFAULT_MLFLOW,
        default=None,
        help=f"also log each cell and its trials to MLflow at URI (without URI: {DEFAULT_MLFLOW};"
        " needs the [mlflow] extra)",
    )


def positive_number_type(text: str) -> float:
    """argparse `type` of a positive finite number: argparse then prints one `hpo: error:`
    line and exits 2. (Under pytest the plugin checks the text itself, as for choices.)"""
    import argparse

    from hpo.errors import HpoError
    from hpo.experiment.profiles import positive_number

    try:
        return positive_number(text, "the value")
    except HpoError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("the value ")) from None


def add_report_options(addoption: AddOption, prefix: str) -> None:
    """How the report judges differences: the smallest effect that matters."""
    addoption(
        f"--{prefix}smallest-effect",
        metavar="X",
        default=None,
        **({} if prefix else {"type": positive_number_type}),
        help="the smallest difference in test score that matters: X test rows on accuracy"
        " tasks, X in the score's units (R², a task's own score) on others; pairs are called"
        " equivalent within it (TOST) or different by at least it (default: 1 test row; 0.01)",
    )


def default_report_dir(first_input: str | Path) -> Path:
    """Where a report goes unless --out says: beside its first input, named after it.

    results/benchmarks-smoke.json -> results/benchmarks-smoke-report/ (what `pytest
    benchmarks` writes), an `hpo run` record X.json -> X-report/.
    """
    path = Path(first_input)
    if path.name in ("", ".."):  # "." or "..": name the folder itself
        path = path.resolve()
    return path.with_name(f"{path.stem}-report")
