"""Tuner x seed parametrisation, versions in machine_info, and the end-of-session table."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from hpo.errors import HpoError
from hpo.profiles import get_profile, parse_seeds, parse_tuners

RESULTS_DIR = Path("results")
_records = pytest.StashKey[list]()
_baselines = pytest.StashKey[list]()


def _selection(config: pytest.Config) -> tuple[list[str], list[int], str]:
    try:
        return (
            parse_tuners(config.getoption("hpo_tuners")),
            parse_seeds(config.getoption("hpo_seeds")),
            get_profile(config.getoption("hpo_profile")).name,
        )
    except HpoError as e:
        raise pytest.UsageError(str(e)) from None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    _, _, profile = _selection(config)
    config.stash[_records] = []
    config.stash[_baselines] = []
    # Save the JSON without extra flags (before pytest-benchmark reads the option).
    if config.getoption("benchmark_json", None) is None:
        RESULTS_DIR.mkdir(exist_ok=True)
        config.option.benchmark_json = RESULTS_DIR / f"benchmarks-{profile}.json"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    tuners, seeds, _ = _selection(metafunc.config)
    if "tuner" in metafunc.fixturenames:
        metafunc.parametrize("tuner", tuners)
    if "seed" in metafunc.fixturenames:
        metafunc.parametrize("seed", seeds)


@pytest.fixture(scope="session")
def hpo_profile(pytestconfig: pytest.Config) -> str:
    return _selection(pytestconfig)[2]


@pytest.fixture(scope="session")
def hpo_records(pytestconfig: pytest.Config) -> list:
    """Every cell record of this session, in run order."""
    return pytestconfig.stash[_records]


@pytest.fixture(scope="session")
def hpo_baselines(pytestconfig: pytest.Config) -> list:
    """Per-seed baseline scores of this session."""
    return pytestconfig.stash[_baselines]


@pytest.fixture
def progress(pytestconfig: pytest.Config):
    """Per-trial progress lines on the terminal, past pytest's capture: searches take minutes."""
    from hpo.progress import trial_printer

    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    class _Terminal(io.TextIOBase):
        def write(self, text: str) -> int:
            with capture.global_and_fixture_disabled():
                sys.stderr.write(text)
                sys.stderr.flush()
            return len(text)

    def make(label: str, planned: int):
        terminal = _Terminal()
        terminal.write("\n")  # off the line where pytest prints the test's file name
        return trial_printer(label, planned, stream=terminal)

    return make


_calibration = pytest.StashKey[float]()


def calibration_s(config: pytest.Config) -> float:
    """This session's machine-speed yardstick, measured once, before the first search."""
    if _calibration not in config.stash:
        from hpo.calibration import calibrate

        config.stash[_calibration] = calibrate()
    return config.stash[_calibration]


@pytest.fixture(scope="session")
def hpo_calibration(pytestconfig: pytest.Config) -> float:
    return calibration_s(pytestconfig)


def pytest_benchmark_update_machine_info(config, machine_info):
    from hpo.cell import versions

    machine_info["hpo"] = {**versions(), "calibration_s": calibration_s(config)}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    records = config.stash.get(_records, [])
    if not records:
        return
    from hpo.report import main_table, verdict, write_report
    from hpo.results import Results
    from hpo.summary import tuner_table

    terminalreporter.write_sep("=", "hpo: per-tuner means")
    terminalreporter.write_line(tuner_table(records))
    json_path = Path(config.getoption("benchmark_json"))
    out = json_path.with_name(f"{json_path.stem}-report")
    try:
        summary = write_report(Results(records, config.stash.get(_baselines, [])), out)
    except HpoError as e:
        terminalreporter.write_line(f"hpo: no report: {e}", red=True)
        return
    terminalreporter.write_sep("=", "hpo: report")
    terminalreporter.write_line(main_table(summary))
    terminalreporter.write_line("")
    terminalreporter.write_line(verdict(summary).replace("**", ""))
    terminalreporter.write_line(f"full report: {out / 'report.md'}")
