"""The options `hpo run` and the pytest plugin share: declared once, one help and default each."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpo import options
from hpo.cli import build_parser

SHARED = [options.add_cell_options, options.add_run_options, options.add_tracking_options]


def _declared(add, prefix: str) -> dict[str, dict]:
    """What `add(addoption, prefix)` declares: option name -> keyword arguments."""
    calls: dict[str, dict] = {}
    add(lambda *names, **kwargs: calls.setdefault(names[0], kwargs), prefix)
    return calls


@pytest.mark.parametrize("add", SHARED, ids=lambda f: f.__name__)
def test_each_shared_option_has_one_name_help_and_default(add):
    cli, plugin = _declared(add, ""), _declared(add, "hpo-")
    assert [name.replace("--", "--hpo-", 1) for name in cli] == list(plugin)
    for name, kwargs in cli.items():
        other = plugin[name.replace("--", "--hpo-", 1)]
        assert kwargs["help"] == other["help"] and kwargs.get("default") == other.get("default")
        assert "choices" not in other  # pytest's parser would exit 4 in lines of usage


def test_the_command_and_a_session_read_the_same_defaults(pytestconfig):
    args = build_parser().parse_args(["run", "--tuner", "random", "--seed", "0"])
    for add in SHARED:
        for name in _declared(add, ""):
            dest = name.removeprefix("--")
            assert getattr(args, dest) == pytestconfig.getoption(f"hpo_{dest}"), dest


def test_the_report_goes_beside_its_first_input(tmp_path, monkeypatch):
    report_dir = options.default_report_dir
    assert report_dir("results/benchmarks-smoke.json") == Path("results/benchmarks-smoke-report")
    assert report_dir("out/random-smoke-seed3.json") == Path("out/random-smoke-seed3-report")
    monkeypatch.chdir(tmp_path)
    assert report_dir(".") == tmp_path.parent / f"{tmp_path.name}-report"
