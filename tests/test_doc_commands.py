"""Every documented command runs as written: the shell commands of README.md, docs/*.md and the
examples of `hpo COMMAND --help`, checked against the real parsers without running them.

`hpo ...` (and `python -m hpo ...`) must pass hpo's own parser, `pytest ...` may use only the
options pytest lists with this plugin, pytest-benchmark and pytest-xdist, `python
benchmarks/X.py ...` (and `python -m hpo.distributed ...`) must pass the script's own parser,
`pip install` may name only the extras pyproject.toml declares, `tox -e ENV` only its
environments. Tuners, tasks, seeds, profiles, engines and clusters are then checked by hpo's
own functions. Every file or module a command reads must exist in the repository, be written
by a command before it on its page (--out, --json, --benchmark-json ...), lie in results/
(what runs write), or be allowed below with its reason.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import functools
import importlib.util
import inspect
import io
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from hpo.errors import HpoError
from tests.helpers import outside_xdist

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCKS = {"bash", "sh", "shell", "console"}
CHECKED = {"hpo", "pytest", "python", "pip", "tox", "bash"}  # the first words checked
WRITES = {"--out", "--json", "--benchmark-json", "--tensorboard", "--hpo-tensorboard", "--dir"}
RUNS_WRITE = "results"  # hpo's default output folder: what a page reads there, a run wrote

# Modules a page tells the reader to save in the folder they run from, with why.
SAVED_MODULES = {
    "README.md": {"mytuners": "'Save this as mytuners.py in the folder you run from'"},
    "docs/extending.md": {
        "mytuners": "the README's mytuners.py, saved where you run from",
        "mysampler": "'Save it as mysampler.py in the folder you run from'",
    },
    "docs/gate.md": {"mytuners": "'with your mytuners.py saved there as the README says'"},
    "docs/your-task.md": {"signals": "'Save it as signals.py in the folder you run from'"},
    "hpo run --help": {
        "mytuners": "'your own tuner': the README's mytuners.py, saved where you run from",
        "signals": "'your model, your data': docs/your-task.md's signals.py, saved likewise",
    },
}
# Files a command reads that no command of its page writes, with why.
ILLUSTRATIVE = {
    ("docs/usage.md", "shard-a.json"): "shards of one run, as split across machines",
    ("docs/usage.md", "shard-b.json"): "the same",
    ("docs/report.md", "shard-a.json"): "the same",
    ("docs/report.md", "shard-b.json"): "the same",
    ("hpo tabulate --help", "grid.json"): "the grid file its comment spells out",
}


@dataclass(frozen=True)
class Command:
    """One documented command: where it is, its words, and what its page wrote before it."""

    page: str
    line: int
    words: tuple[str, ...]
    written: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {shlex.join(self.words)}"

    def saved(self, name: str) -> bool:
        """Whether `name` (MODULE:ATTR) is a module its page tells the reader to save."""
        return ":" in name and name.split(":")[0] in SAVED_MODULES.get(self.page, {})


# ------------------------------------------------------------------ finding the commands


def shell_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, logical line) of a page's shell: fenced bash, sh, shell and console
    blocks (console: the lines after a `$ ` prompt) and indented `$ ` lines; a line ending
    in a backslash, `|` or `&&` continues on the next."""
    lines = text.splitlines()
    pending: tuple[int, str] | None = None
    fence: str | None = None  # the open block's language
    for number, raw in enumerate(lines, 1):
        opening = re.match(r"^\s*```\s*(\w*)", raw)
        if opening:
            fence = None if fence is not None else opening[1]
            continue
        stripped = raw.strip()
        if fence in SHELL_BLOCKS:
            if fence == "console" and pending is None:
                if not stripped.startswith("$ "):
                    continue
                stripped = stripped[2:]
        elif fence is None and re.match(r"^ {4,}\$ ", raw) and pending is None:
            stripped = stripped[2:]
        elif pending is None:
            continue
        start, text_so_far = pending if pending is not None else (number, "")
        joined = f"{text_so_far} {stripped}".strip()
        if joined.endswith("\\"):
            pending = (start, joined[:-1])
        elif joined.endswith(("|", "&&")):
            pending = (start, joined)
        else:
            pending = None
            if joined:
                yield start, joined


def split_commands(line: str) -> list[list[str]]:
    """A logical line's commands: split at &&, ||, ; and |, comments dropped, without the
    environment assignments and /usr/bin/time in front; `<placeholders>` as one word."""
    line = re.sub(r"<[^<>]+>", "PLACEHOLDER", line)
    commands: list[list[str]] = [[]]
    for word in shlex.split(line, comments=True):
        if word in ("&&", "||", "|", ";"):
            commands.append([])
        elif word.endswith(";"):
            commands[-1].append(word[:-1])
            commands.append([])
        else:
            commands[-1].append(word)
    out = []
    for words in commands:
        while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
            words = words[1:]
        if words and words[0] in ("/usr/bin/time", "time"):
            words = words[1:]
            while words and words[0].startswith("-"):
                words = words[1:]
        if words:
            out.append(words)
    return out


def written_by(words: list[str]) -> set[str]:
    """The paths a command writes: the values of its output options."""
    out = set()
    for i, word in enumerate(words):
        name, eq, value = word.partition("=")
        if name in WRITES:
            out.add((value if eq else words[i + 1] if i + 1 < len(words) else "").rstrip("/"))
    return out


def page_commands(page: str, lines: Iterator[tuple[int, str]]) -> list[Command]:
    """A page's commands in order, each knowing what the ones before it wrote."""
    found: list[Command] = []
    written: set[str] = set()
    for number, line in lines:
        for words in split_commands(line):
            found.append(Command(page, number, tuple(words), frozenset(written)))
            written |= written_by(words)
    return found


def help_lines(text: str) -> Iterator[tuple[int, str]]:
    """The example lines of an `hpo COMMAND --help` epilog."""
    for number, line in enumerate(text.splitlines()[1:], 2):
        if line.strip():
            yield number, line.strip()


def documented_commands() -> list[Command]:
    from hpo.cli import EXAMPLES, build_parser

    build_parser()  # it adds tabulate's examples to EXAMPLES
    found = []
    for path in PAGES:
        page = path.relative_to(ROOT).as_posix()
        found += page_commands(page, shell_lines(path.read_text(encoding="utf-8")))
    for name, text in EXAMPLES.items():
        found += page_commands(f"hpo {name} --help", help_lines(text))
    return [c for c in found if c.words[0] in CHECKED]


COMMANDS = documented_commands()


# ------------------------------------------------------------------ what a value must be


def _hpo(check: Callable[[str], Any]) -> Callable[[Command, Any], list[str]]:
    """A value check made of hpo's own function: its HpoError is the problem."""

    def checked(command: Command, value: Any) -> list[str]:
        try:
            check(value)
        except HpoError as e:
            return [str(e)]
        return []

    return checked


def _names(parse: Callable[[str], Any]) -> Callable[[Command, Any], list[str]]:
    """A comma-separated list of tuners or tasks, but the modules its page has the reader save."""

    def checked(command: Command, text: Any) -> list[str]:
        names = [n for n in str(text).split(",") if n.strip() and not command.saved(n)]
        return _hpo(parse)(command, ",".join(names)) if names else []

    return checked


def _readable(command: Command, path: Any) -> list[str]:
    """A file or folder the command reads: in the repository, written before it on its
    page, in results/, or allowed in ILLUSTRATIVE."""
    text = str(path).rstrip("/")
    if "$" in text or text in command.written or (command.page, text) in ILLUSTRATIVE:
        return []
    if text == RUNS_WRITE or text.startswith(RUNS_WRITE + "/"):
        return []
    if any(c in text for c in "*?["):
        return [] if list(ROOT.glob(text)) else [f"{text} matches nothing"]
    return [] if (ROOT / text).exists() else [f"{text} does not exist"]


def _each(check: Callable[[Command, Any], list[str]]) -> Callable[[Command, Any], list[str]]:
    return lambda command, values: [p for v in values for p in check(command, v)]


def _workers(command: Command, value: Any) -> list[str]:
    ok = str(value) in ("auto", "logical") or str(value).isdigit()
    return [] if ok else [f"-n {value}: a number of workers, auto or logical"]


def _value_checks() -> dict[str, Callable[[Command, Any], list[str]]]:
    """What each option's value must be, by its name in a namespace or on pytest's line."""
    from hpo.experiment.profiles import (
        check_engine,
        check_seed,
        get_profile,
        parse_seeds,
        positive_number,
    )
    from hpo.experiment.tasks import parse_tasks
    from hpo.parallel.cluster import parse_cluster
    from hpo.tuners import parse_tuners

    tuners, tasks = _names(parse_tuners), _names(parse_tasks)
    seeds, profile = _hpo(parse_seeds), _hpo(get_profile)
    cluster, engine = _hpo(parse_cluster), _hpo(check_engine)
    positive = _hpo(lambda v: positive_number(str(v), "the value"))
    return {
        # attributes of a parsed namespace (hpo, hpo.distributed, benchmarks/*.py)
        "tuner": tuners,
        "tuners": tuners,
        "task": tasks,
        "seed": _hpo(check_seed),
        "seeds": lambda c, v: [] if isinstance(v, int) else seeds(c, v),  # table_cost: a count
        "profile": lambda c, v: [] if v is None else profile(c, v),
        "engine": engine,
        "cluster": lambda c, v: [] if v is None else cluster(c, v),
        "replay": lambda c, v: [] if v is None else _readable(c, v),
        "grid": lambda c, v: [] if v is None else _readable(c, v),
        "table": lambda c, v: [] if v is None else _readable(c, v),  # hpo.distributed: optional
        "results": _each(_readable),
        "baseline": _readable,
        "candidate": _readable,
        # pytest's options
        "--hpo-tuners": tuners,
        "--hpo-tasks": tasks,
        "--hpo-seeds": seeds,
        "--hpo-profile": profile,
        "--hpo-engine": engine,
        "--hpo-cluster": cluster,
        "--hpo-replay": _readable,
        "--hpo-smallest-effect": positive,
        "--hpo-min-speedup": positive,
        "--hpo-min-search-speedup": positive,
        "--hpo-max-rss-mb": positive,
        "-n": _workers,
        "--numprocesses": _workers,
    }


def _namespace(command: Command, namespace: argparse.Namespace) -> list[str]:
    checks = _value_checks()
    return [
        f"{name} {getattr(namespace, name)!r}: {problem}"
        for name in vars(namespace)
        if name in checks
        for problem in checks[name](command, getattr(namespace, name))
    ]


# ------------------------------------------------------------------ each program's check


class _Parsed(Exception):
    """Raised by a parser that was only to parse: what it parsed."""

    def __init__(self, namespace: argparse.Namespace) -> None:
        super().__init__()
        self.namespace = namespace


def _parse_only(run: Callable[[], Any]) -> argparse.Namespace | str:
    """Call `run` (a script's main) until its parser has parsed: the namespace, or the
    parser's error line. Nothing after the parsing runs."""
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        raise _Parsed(original(self, *args, **kwargs))

    error = io.StringIO()
    try:
        with (
            mock.patch.object(argparse.ArgumentParser, "parse_args", parse_then_stop),
            contextlib.redirect_stderr(error),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            run()
    except _Parsed as parsed:
        return parsed.namespace
    except SystemExit:
        return error.getvalue().strip().splitlines()[-1]
    return "its main() returned without parsing its arguments"


def check_hpo(command: Command, argv: list[str]) -> list[str]:
    from hpo.cli import build_parser

    parsed = _parse_only(lambda: build_parser().parse_args(argv))
    return [parsed] if isinstance(parsed, str) else _namespace(command, parsed)


def check_script(command: Command, path: str, argv: list[str]) -> list[str]:
    """`python benchmarks/X.py ...`: the file exists; its own parser accepts the arguments
    (a script without one: the paths it is given exist)."""
    problems = _readable(command, path)
    if problems:
        return problems
    source = (ROOT / path).read_text(encoding="utf-8")
    if "ArgumentParser" not in source:
        paths = [a for a in argv if "/" in a or a.endswith((".json", ".npz"))]
        return [p for a in paths for p in _readable(command, a)]
    spec = importlib.util.spec_from_file_location(f"_documented_{Path(path).stem}", ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return check_main(command, module.main, path, argv)


def check_main(command: Command, main: Callable[..., Any], prog: str, argv: list[str]) -> list[str]:
    """A main(argv) (or main() reading sys.argv), parsed only."""
    if inspect.signature(main).parameters:
        parsed = _parse_only(lambda: main(argv))
    else:
        with mock.patch.object(sys, "argv", [prog, *argv]):
            parsed = _parse_only(main)
    return [parsed] if isinstance(parsed, str) else _namespace(command, parsed)


@functools.cache
def pytest_options() -> dict[str, bool]:
    """Every option `pytest --help` lists here (this plugin, pytest-benchmark, pytest-xdist),
    and whether it takes a value."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, env=outside_xdist(), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    options: dict[str, bool] = {}
    for line in done.stdout.splitlines():
        listed = re.match(r"^  (-\S.*?)(?:\s{2,}|$)", line)
        for spec in listed[1].split(", ") if listed else []:
            parts = re.match(r"^(-[-\w]+)(.*)$", spec)
            if parts:
                options[parts[1]] = bool(parts[2].strip(" ="))
    return options


def check_pytest(command: Command, argv: list[str]) -> list[str]:
    """Known options only, their values by hpo's checks, and the paths it names exist."""
    options, checks = pytest_options(), _value_checks()
    problems: list[str] = []
    words = iter(argv)
    for word in words:
        if not word.startswith("-"):
            problems += _readable(command, word.split("::")[0])
            continue
        name, eq, value = word.partition("=")
        if not name.startswith("--") and len(name) > 2:  # -n0, -vs
            name, value, eq = name[:2], name[2:], "=" * options.get(name[:2], False)
            if not options.get(name, True) and any(f"-{c}" not in options for c in value):
                problems.append(f"unknown option among {word}")
        if name not in options:
            problems.append(f"unknown option {name}")
            continue
        if options[name] and not eq:
            value = next(words, "")
        if name in checks:
            problems += [f"{name} {value}: {p}" for p in checks[name](command, value)]
    return problems


def check_pip(command: Command, argv: list[str]) -> list[str]:
    """`pip install [-e] .[extras]`: extras pyproject.toml declares."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = set(project["project"]["optional-dependencies"])
    named = [e for a in argv if (m := re.fullmatch(r"\.\[([\w,-]+)\]", a)) for e in m[1].split(",")]
    return [f"no extra {e!r} in pyproject.toml" for e in named if e not in extras]


def check_tox(command: Command, argv: list[str]) -> list[str]:
    """`tox -e ENV [-- ARGS]`: an environment of tox.ini; ARGS as its pytest's."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(ROOT / "tox.ini")
    env = argv[argv.index("-e") + 1]
    if f"testenv:{env}" not in ini:
        return [f"tox.ini has no environment {env!r}"]
    run = ini[f"testenv:{env}"]["commands"].split()
    posargs = argv[argv.index("--") + 1 :] if "--" in argv else []
    if run[0] != "pytest":
        return []
    return check_pytest(command, [w for w in run[1:] if w != "{posargs}"] + posargs)


def check(command: Command) -> list[str]:
    """What is wrong with a documented command (nothing: an empty list)."""
    words = list(command.words)
    program, argv = words[0], words[1:]
    if program == "python" and argv[:2] in (["-m", "hpo"], ["-m", "pytest"]):
        program, argv = argv[1], argv[2:]
    if program == "hpo":
        return check_hpo(command, argv)
    if program == "pytest":
        return check_pytest(command, argv)
    if program == "python" and argv[:2] == ["-m", "hpo.distributed"]:
        from hpo.parallel.distributed import main

        return check_main(command, main, "hpo.distributed", argv[2:])
    if program == "python":
        return check_script(command, argv[0], argv[1:])
    if program == "pip":
        return check_pip(command, argv)
    if program == "tox":
        return check_tox(command, argv)
    return _readable(command, argv[0])  # bash FILE


# ------------------------------------------------------------------ the tests


@pytest.mark.parametrize("command", COMMANDS, ids=[f"{c.page}:{c.line}" for c in COMMANDS])
def test_the_documented_command_runs_as_written(command: Command) -> None:
    assert check(command) == [], str(command)


def test_the_commands_are_found_on_every_page_that_has_them() -> None:
    pages = {c.page for c in COMMANDS}
    assert {"README.md", "docs/usage.md", "docs/gate.md", "docs/tables.md"} <= pages
    assert {"hpo run --help", "hpo report --help", "hpo tabulate --help"} <= pages
    installs = [c.words for c in COMMANDS if c.page == "README.md" and c.words[0] == "pip"]
    assert installs[:3] == [  # the first screen's replay, then the two commands as written
        ("pip", "install", "-e", "."),
        ("pip", "install", "-e", "."),
        ("pip", "install", "-e", ".[test]"),
    ]


SAMPLE = """\
```bash
# a comment
pip install -e '.[test]' && pytest benchmarks \\
    --hpo-seeds 0-2   # seeds
X=1 /usr/bin/time -v hpo report results/a.json --out rep/; hpo compare rep/x.json b.json
```

```console
$ hpo run --tuner random --seed 0
output, not a command
```

```python
hpo = "not shell"
```

    $ pytest -n 0
"""


def test_commands_are_read_from_blocks_continuations_and_prompts() -> None:
    found = page_commands("sample.md", shell_lines(SAMPLE))
    assert [(c.line, c.words) for c in found] == [
        (3, ("pip", "install", "-e", ".[test]")),
        (3, ("pytest", "benchmarks", "--hpo-seeds", "0-2")),
        (5, ("hpo", "report", "results/a.json", "--out", "rep/")),
        (5, ("hpo", "compare", "rep/x.json", "b.json")),
        (9, ("hpo", "run", "--tuner", "random", "--seed", "0")),
        (17, ("pytest", "-n", "0")),
    ]
    assert found[3].written == {"rep"}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("pytest benchmarks --hpo-nope 1", "unknown option --hpo-nope"),
        ("pytest benchmarks --hpo-seeds 0-x", "--hpo-seeds 0-x"),
        ("pytest benchmarks --hpo-tasks signals:task", "cannot load module 'signals'"),
        ("pytest benchmark --hpo-profile smoke", "benchmark does not exist"),
        ("pytest -n zero", "-n zero"),
        ("hpo run --tuner random --seed 0 --prof smoke", "unrecognized arguments: --prof"),
        ("hpo run --replay tables/bc-quick.npz --tuner hyperband --seed 7", "does not exist"),
        ("hpo run --tuner nope --seed 0", "unknown tuner 'nope'"),
        ("hpo report missing.json", "missing.json does not exist"),
        ("python benchmarks/nope.py", "benchmarks/nope.py does not exist"),
        ("python benchmarks/replay_seeds.py tables/x.npz --out r", "tables/x.npz does not exist"),
        ("python benchmarks/space_spread.py --configs many", "invalid int value"),
        ("python -m hpo.distributed boss --tuner random --seed 0 --dir d", "invalid choice"),
        ("pip install -e '.[nope]'", "no extra 'nope'"),
        ("tox -e bench -- --hpo-nope", "unknown option --hpo-nope"),
        ("tox -e docs", "no environment 'docs'"),
    ],
)
def test_the_checks_catch_what_they_are_for(line: str, problem: str) -> None:
    (words,) = split_commands(line)
    problems = check(Command("docs/usage.md", 1, tuple(words)))
    assert any(problem in p for p in problems), problems


def test_a_module_the_page_has_the_reader_save_is_not_looked_for() -> None:
    command = Command("docs/extending.md", 1, ("hpo", "run", "--tuner", "mysampler:SPEC"))
    assert command.saved("mysampler:SPEC") and not command.saved("examples.mysampler:SPEC")
    other_page = Command("README.md", 1, command.words)
    assert not other_page.saved("mysampler:SPEC")


def test_every_hpo_option_of_pytest_is_in_the_plugins_table() -> None:
    table = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(--hpo-[\w-]+)", table, re.MULTILINE))
    assert listed == {o for o in pytest_options() if o.startswith("--hpo-")}


def test_the_commands_ci_runs_for_real_are_documented_as_written() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    listed = re.search(r"^documented=\((.*?)^\)", ci, re.MULTILINE | re.DOTALL)
    assert listed is not None, ".ci/run has no documented=( ... ) list"
    run = [tuple(shlex.split(c)) for c in shlex.split(listed[1])]
    assert len(run) == 2 and all(words in {c.words for c in COMMANDS} for words in run), run
