"""The `hpo` command: run | report | compare | tabulate. Bad input: one error line, exit 2."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from hpo.errors import EXIT_BAD_INPUT, EXIT_STOPPED, CellStopped, HpoError
from hpo.options import (
    add_cell_options,
    add_report_options,
    add_run_options,
    add_tracking_options,
    default_report_dir,
)

if TYPE_CHECKING:
    from hpo.experiment.results import Results


DESCRIPTION = """Honest, reproducible benchmarks of hyperparameter optimisers for Keras models.

A cell is one tuner searching one seed's split on one budget profile; `hpo run`
runs one, `pytest benchmarks` runs a tuner x seed matrix, `hpo report` turns
records into a verdict, `hpo compare` gates a run against a baseline run.
"""

EXAMPLES = {
    "run": """examples:
  hpo run --tuner random --seed 0 --profile smoke          # seconds: a first record
  hpo run --tuner hyperband --seed 3 --profile paper       # the seed report's budget
  hpo run --tuner mytuners:make_oracle --seed 0 --profile smoke   # your own tuner
  hpo run --tuner random --seed 0 --engine keras           # cross-check with Keras' fit
  hpo run --task signals:task --tuner tpe --seed 0 --profile quick  # your model, your data
  # milliseconds: a search replayed against a table of real trainings (hpo tabulate)
  hpo run --replay tables/breast_cancer-paper.npz --tuner hyperband --seed 7 --profile quick
""",
    "report": """examples:
  hpo report results/benchmarks-smoke.json   # into results/benchmarks-smoke-report/
  hpo report results/*.json --out report/     # pytest benchmarks JSON and hpo run records mix
  hpo report results/replayed-bc              # a folder: every .json record in it
  hpo report results/benchmarks-smoke.json --smallest-effect 2   # 2 test rows matter
""",
    "compare": """examples:
  hpo compare benchmarks/baselines/smoke.json results/benchmarks-smoke.json
""",
}


class _Parser(argparse.ArgumentParser):
    """argparse with hpo's error line: the usage, then `hpo: error: ...`, exit 2; options are
    spelled out (no abbreviations: `--prof` would escape the checks of what was given)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"hpo: error: {message}\n")


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be an integer, got {text!r}") from None


def _positive(text: str) -> float:
    from hpo.experiment.profiles import positive_number

    try:
        return positive_number(text, "the threshold")
    except HpoError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("the threshold ")) from None


def _check_writable(path: Path) -> None:
    """Fail before a long search, not after it, if `path` cannot be written."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise HpoError(f"cannot write {path}: {parent} is a file, not a folder")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".hpo-check-"):
            pass
    except OSError as e:
        raise HpoError(f"cannot write {path}: {e.strerror or e}") from None
    if path.is_dir():
        raise HpoError(f"cannot write {path}: it is a directory")


def _cmd_run(args: argparse.Namespace) -> int:
    from hpo.experiment.tasks import TASKS
    from hpo.runners import Placement, get_runner
    from hpo.tuners._spec import BUILTIN

    if args.task not in TASKS or args.tuner not in BUILTIN:  # a user's module may import
        from hpo.run.runtime import import_tensorflow_quietly  # Keras: keep TF's lines out

        import_tensorflow_quietly()
    where = Placement(
        replay=args.replay, cluster=args.cluster, workers=args.workers, engine=args.engine
    )
    where.check()  # options that cannot go together: one line, before anything else
    cell, json_path = _replayed_cell(args) if args.replay is not None else _live_cell(args)
    if args.mlflow:
        from hpo.run.tracking import check_mlflow_uri

        check_mlflow_uri(args.mlflow)
    _check_writable(json_path)

    from hpo.run.runtime import import_tensorflow_quietly

    import_tensorflow_quietly()  # a record names the library versions

    from hpo.parallel.isolation import Reporting
    from hpo.run.record import describe
    from hpo.run.store import Outcome, RunOptions, saved_record

    label = cell.label
    if args.replay is None and (args.force or saved_record(json_path, cell) is None):
        budget = cell.budget
        print(f"{label}: {budget.trials} trials, {budget.epochs} epochs planned", file=sys.stderr)
    runner = get_runner(where)
    try:
        said = runner.describe(cell)
        if said is not None:
            print(said, file=sys.stderr)
        result, how = runner.run(
            cell,
            json_path,
            RunOptions(force=args.force, keep=args.keep),
            Reporting(trial_lines=not args.quiet),
        )
    finally:
        runner.close()
    if how == Outcome.REUSED:
        print(f"{label}: already done by this code, not run again (--force runs it anew)")
    elif how == Outcome.RESUMED:
        print(f"{label}: resumed from its saved state ({result.resumes} time(s))")
    print(describe(result))
    print(f"best hyperparameters: {result.best_hyperparameters}")
    print(f"{'record' if how == Outcome.REUSED else 'wrote'} {json_path}")
    if args.tensorboard or args.mlflow:
        from hpo.run.tracking import track

        for line in track(result, args.tensorboard, args.mlflow):
            print(line)
    return 0


def _live_cell(args: argparse.Namespace) -> tuple[Any, Path]:
    """The cell `hpo run` trains, checked (a user's task on its split), and its record's path."""
    from hpo.run.cell import Cell, check_cell

    cell = Cell.of(args.tuner, args.seed, args.profile, args.task, args.engine)
    check_cell(cell)
    return cell, Path(args.json) if args.json else Path(args.out) / f"{cell.name}.json"


def _replayed_cell(args: argparse.Namespace) -> tuple[Any, Path]:
    """`hpo run --replay TABLE`: the cell the tuner replays on the table's grid (its task, and
    its profile unless --profile names one of fewer epochs), and its record's path."""
    from hpo.replay import check_table
    from hpo.tables import Table

    table = Table.load(args.replay)
    if _given(args, "--task") and args.task != table.task:
        raise HpoError(
            f"--task {args.task}: the table {args.replay} is of task {table.task}"
            " (a replay's task is its table's)"
        )
    profile = args.profile if _given(args, "--profile") else None  # None: the table's
    cell = check_table(table, args.tuner, args.seed, profile)
    workers = f"-workers{args.workers}" if args.workers > 1 else ""
    name = f"{cell.name}{workers}-replay.json"
    return cell, Path(args.json) if args.json else Path(args.out) / name


def _given(args: argparse.Namespace, option: str) -> bool:
    """Whether the command line named `option` (not only its default)."""
    argv = getattr(args, "argv", None) or []
    return any(a == option or a.startswith(f"{option}=") for a in argv)


def _cmd_report(args: argparse.Namespace) -> int:
    from hpo.analysis.report import conclusions, main_table, write_report
    from hpo.experiment.results import load_results

    results = load_results(args.results)
    out = Path(args.out) if args.out is not None else default_report_dir(args.results[0])
    summary = write_report(
        results, out, budgets=_budgets(results), smallest_effect=args.smallest_effect
    )
    print(main_table(summary))
    print()
    print("\n".join(conclusions(summary)))
    print(f"wrote {out / 'report.md'}, summary.json and figures")
    return 0


def _budgets(results: Results) -> dict[str, str] | None:
    """Each reported tuner's settings and budget, in words (None if the records mix profiles,
    which the report refuses by name). Resolved here: the analysis imports no tuner."""
    from hpo.tuners import budget_texts

    profiles = {c.profile for c in results.cells}
    if len(profiles) != 1:
        return None
    return budget_texts(list(dict.fromkeys(c.tuner for c in results.cells)), profiles.pop())


def _cmd_compare(args: argparse.Namespace) -> int:
    from hpo.analysis.compare import compare, render
    from hpo.experiment.results import load_results

    verdicts = compare(
        load_results([args.baseline]),
        load_results([args.candidate]),
        accuracy_threshold=args.accuracy_threshold,
        slowdown_threshold=args.slowdown,
    )
    print(render(verdicts))
    regressed = [v.label for v in verdicts if v.regressed]
    if regressed:
        print(f"hpo compare: REGRESSION in {', '.join(regressed)}")
        return 1
    print("hpo compare: no regression")
    return 0


def _version() -> str:
    """The installed distribution's version (keras-hpo-bench), else hpo.__version__."""
    from importlib.metadata import PackageNotFoundError, version

    import hpo

    try:
        return version("keras-hpo-bench")
    except PackageNotFoundError:
        return hpo.__version__


def build_parser() -> argparse.ArgumentParser:
    from hpo.experiment.profiles import DEFAULT_TASK
    from hpo.experiment.tasks import TASKS
    from hpo.tuners import tuner_names

    parser = _Parser(
        prog="hpo", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"hpo {_version()}")
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="{run,report,compare,tabulate}"
    )

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run = command(
        "run",
        "run one cell (tuner x seed x profile), write its record; resumes if interrupted",
    )
    run.add_argument(
        "--tuner",
        required=True,
        metavar="{" + ",".join(tuner_names()) + ",MODULE:ATTR}",
        help="a tuner's name, or MODULE:ATTR naming an oracle factory or a TunerSpec",
    )
    run.add_argument(
        "--task",
        default=DEFAULT_TASK,
        metavar="{" + ",".join(TASKS) + ",MODULE:ATTR}",
        help=f"a task's name, or MODULE:ATTR naming an hpo.Task (default: {DEFAULT_TASK})",
    )
    run.add_argument("--seed", required=True, type=_seed, help="integer in [0, 2**32-1]")
    add_cell_options(run.add_argument, prefix="")
    run.add_argument(
        "--out",
        default="results",
        help="folder of the record OUT/TUNER-PROFILE-seedN.json (default: results)",
    )
    run.add_argument("--json", help="record path instead (default: under --out)")
    run.add_argument(
        "--keep",
        action="store_true",
        help="keep Keras Tuner's project (RECORD.work/: trials, checkpoints) after the record",
    )
    run.add_argument("--quiet", action="store_true", help="no per-trial progress lines")
    run.add_argument(
        "--replay",
        metavar="TABLE",
        default=None,
        help="replay the search against a table of real trainings (hpo tabulate): the tuner"
        " searches its grid, every epoch is looked up; the task is the table's, the profile"
        " too unless --profile names one of fewer epochs (the rows' first epochs);"
        " writes OUT/TUNER-PROFILE-seedN-replay.json",
    )
    add_run_options(run.add_argument, prefix="")
    add_tracking_options(run.add_argument, prefix="")
    run.set_defaults(func=_cmd_run)

    report = command(
        "report", "statistics, verdict, figures and CSV files from records of one profile"
    )
    report.add_argument(
        "results",
        nargs="+",
        metavar="RESULTS",
        help="pytest benchmarks JSON and/or hpo run records: files, or folders of them"
        " (shards of one run merge)",
    )
    report.add_argument(
        "--out",
        help="folder for report.md, summary.json, CSV files and PNGs (default: beside the first"
        " RESULTS, named after it: X.json -> X-report/, as `pytest benchmarks` writes it)",
    )
    add_report_options(report.add_argument, prefix="")
    report.set_defaults(func=_cmd_report)

    comp = command("compare", "regression gate: exit 0 ok, 1 regression, 2 bad input")
    comp.add_argument("baseline", help="pytest-benchmark JSON of the baseline run")
    comp.add_argument("candidate", help="pytest-benchmark JSON of the candidate run")
    comp.add_argument(
        "--accuracy-threshold",
        type=_positive,
        default=None,
        help="mean test-accuracy drop that counts (default: one test row, 1/114)",
    )
    comp.add_argument(
        "--slowdown",
        type=_positive,
        default=0.25,
        help="growth of time / calibration that counts (default: 0.25)",
    )
    comp.set_defaults(func=_cmd_compare)

    from hpo.tables.cli import TABULATE_EXAMPLES, add_tabulate_parser

    EXAMPLES["tabulate"] = TABULATE_EXAMPLES  # command() reads each epilog from EXAMPLES
    add_tabulate_parser(command)
    return parser


def main(argv: Sequence[str] | None = None, *, exiting: bool = False) -> int:
    """Run the command line `argv`; its exit code. `exiting`: the process ends right after
    (`entry`), so a Ctrl-C after the command's work is ignored rather than a traceback."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # which options were given
    from hpo.run.runtime import counting_interrupts

    with counting_interrupts(ignore_after=exiting):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except CellStopped as e:
        print(f"hpo: error: {e}", file=sys.stderr)
        return EXIT_STOPPED
    except HpoError as e:
        print(f"hpo: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("hpo: interrupted; the same command resumes where it stopped", file=sys.stderr)
        return 130
    except SystemError:
        # Ctrl-C landing inside some of TensorFlow's callbacks into Python surfaces as
        # SystemError ("bad argument to internal function"), not KeyboardInterrupt (seen
        # in tests/test_resume.py). It is still the user's interrupt: say so, as above.
        from hpo.run.runtime import interrupted

        if not interrupted():
            raise
        print("hpo: interrupted; the same command resumes where it stopped", file=sys.stderr)
        return 130


def entry() -> None:
    """The `hpo` command: `main`, then an exit that skips the interpreter's slow teardown."""
    from hpo.run.runtime import exit_now

    exit_now(main(exiting=True))


if __name__ == "__main__":
    entry()
