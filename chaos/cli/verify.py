"""`chaosbed verify [PATHS...] [--junit FILE] [--parallel N]`: the resilience suite, for CI.

Runs every experiment and game day the paths name (default: the shipped
experiment library) against the running stack, writes JUnit XML, the
combined journal and the report, and exits non-zero when any experiment's
verdict is not the one it predicts.

With `--parallel N` the suite runs on N fresh stacks of its own instead
(lanes; chaos/verify/lanes.py, chaos/cli/lanes.py): each lane is a child
`chaosbed verify --start-stack` on its own port base, and the results are
merged into the same journal, report and JUnit file, in suite order.
"""

from __future__ import annotations

import argparse
import json
import signal
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from chaos.exitcodes import ExitCode, interrupted_by
from chaos.gameday import (
    Act,
    ActResult,
    GameDay,
    Played,
    play,
    record,
    suite_exit_code,
    verdict_table,
)
from chaos.runtime.layout import BLOCK
from chaos.verify import Skipped, Suite, junit_xml, write_junit
from chaos.verify.lanes import DEFAULT_BASE, lane_results, plan_lanes

from .command import Command, Context
from .lanes import Job, JobEnd, lane_bases_of, run_jobs, verify_argv
from .playing import act_runner, add_play_options, collect_runnable, output_directory
from .runtime_options import choice_of

__all__ = [
    "COMMAND",
    "EXPLORATIONS",
    "LIBRARY",
    "SHIPPED",
    "add_parallel_option",
    "lane_count",
    "merge_lanes",
]

#: The shipped experiments.
LIBRARY = Path(__file__).resolve().parent.parent / "experiments"
#: The shipped explorations (`chaosbed explore` as files).
EXPLORATIONS = LIBRARY.with_name("explorations")
#: What `chaosbed verify` and `chaosbed mutate` play when given no path.
SHIPPED = (LIBRARY, EXPLORATIONS)

NOT_RUN = "not run: the suite stopped before it"


def lane_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of lanes: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: needs at least 1 lane")
    return value


def add_parallel_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--parallel",
        type=lane_count,
        default=1,
        metavar="N",
        help="run on N fresh stacks side by side, started and stopped here, on the port bases "
        f"B, B+{BLOCK}, ... (B: --port-base, else CHAOSBED_PORT_BASE, else {DEFAULT_BASE}); "
        "default 1: the running stack (verify) or one stack at a time (mutate)",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="experiment, exploration and game day files and directories of them "
        "(default: the shipped experiment library and explorations); or Chaos Toolkit "
        "journals, each read as a test case (not run)",
    )
    parser.add_argument("--junit", type=Path, help="write JUnit XML here")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="only the experiment (or game day act, GAMEDAY/NAME) of this name; repeatable",
    )
    add_parallel_option(parser)
    parser.add_argument(
        "--start-stack",
        action="store_true",
        help="start a fresh stack first (refused when one runs from --state-dir) and stop it "
        "after, whatever happens",
    )
    add_play_options(parser)


def _only(suite: Suite, names: list[str] | None, context: Context) -> Suite | None:
    if not names:
        return suite
    known = {a.name for a in suite.acts}
    skipped = {s.name: s.why for s in suite.skipped}
    for name in names:
        if name in skipped:
            context.complain(f"--only {name}: cannot run here: {skipped[name]}")
        elif name not in known:
            context.complain(f"--only {name}: no such experiment in this suite")
    if not set(names) <= known:
        return None
    acts = tuple(a for a in suite.acts if a.name in names)
    return Suite(acts, (), (), suite.together)


def _is_ctk_journal(path: Path) -> bool:
    from chaos.ctk.journal import is_ctk_journal

    if path.suffix != ".json" or not path.is_file():
        return False
    try:
        return is_ctk_journal(json.loads(path.read_text()))
    except (OSError, ValueError):
        return False


def _read_ctk_journals(args: argparse.Namespace, context: Context, paths: list[Path]) -> int:
    """Each Chaos Toolkit journal's run as a test case, read (not run): the verdict
    of the chaosbed run it carries, else CTK's own (chaos.ctk.journal)."""
    from chaos.ctk.journal import chaosbed_journal_of

    started = datetime.now(UTC)
    results = []
    for path in paths:
        journal = chaosbed_journal_of(json.loads(path.read_text()), str(path))
        results.append(ActResult.of_journal(path.stem, path, journal))
    title = f"chaosbed verify: {len(paths)} Chaos Toolkit journals"
    day = GameDay(title, "", " ".join(map(str, paths)), ())
    directory = output_directory(args, "verify")
    played = record(day, directory, started.timestamp(), tuple(results), None)
    return _conclude(args, context, Suite((), (), ()), played, [], started)


def run(args: argparse.Namespace, context: Context) -> int:
    journals = [path for path in args.paths if _is_ctk_journal(path)]
    if journals and len(journals) < len(args.paths):
        context.complain(
            "a Chaos Toolkit journal is read, not run: name journals alone, or experiments alone"
        )
        return ExitCode.INVALID_INPUT
    if journals:
        return _read_ctk_journals(args, context, journals)
    if args.parallel > 1 and args.start_stack:
        context.complain("--start-stack is for one stack; --parallel starts its own stacks")
        return ExitCode.INVALID_INPUT
    if args.parallel > 1 and args.runtime == "cluster":
        context.complain(
            "--parallel starts a stack per lane, and the cluster runtime runs one stack on a "
            "machine: verify on the cluster runs its experiments one after another"
        )
        return ExitCode.INVALID_INPUT
    collected = collect_runnable(args.paths or list(SHIPPED), args, context)
    if collected is None:
        return ExitCode.INVALID_INPUT
    suite = _only(collected, args.only, context)
    if suite is None:
        return ExitCode.INVALID_INPUT
    if not suite.acts:
        context.complain("nothing to verify: no experiment here can run on this runtime")
        return ExitCode.INVALID_INPUT
    if args.parallel > 1:
        return _run_parallel(args, context, suite)
    for skip in suite.skipped:
        context.say(f"skipped {skip.name}: {skip.why}")
    runtime = context.make_runtime(choice_of(args))
    directory = output_directory(args, "verify")
    started = datetime.now(UTC)
    if args.start_stack:
        runtime.up()  # refused when a stack runs there: then nothing of ours to stop
    try:
        played = play(_suite_day(args, suite), directory, act_runner(args, context, runtime),
                      say=context.say, pause=None)  # fmt: skip
    finally:
        if args.start_stack:
            runtime.down()
    not_run = [Skipped(a.name, a.experiment.source, NOT_RUN) for a in suite.acts
               if a.name not in {r.name for r in played.results}]  # fmt: skip
    return _conclude(args, context, suite, played, not_run, started)


def _suite_day(args: argparse.Namespace, suite: Suite) -> GameDay:
    return GameDay(
        f"chaosbed verify: {len(suite.acts)} experiments ({args.runtime} runtime)",
        "",
        " ".join(str(p) for p in args.paths or SHIPPED),
        suite.acts,
    )


def _conclude(
    args: argparse.Namespace,
    context: Context,
    suite: Suite,
    played: Played,
    not_run: list[Skipped],
    started: datetime,
) -> int:
    """The verdict table, JUnit, where it all is, and the exit status."""
    context.say("\n" + verdict_table(played.results))
    if args.junit:
        document = junit_xml(
            played.results,
            [*suite.skipped, *not_run],
            started=started,
            properties={
                "runtime": args.runtime,
                "journal": str(played.journal_path),
                "report": str(played.report_path),
            },  # fmt: skip
            system_out=f"journal: {played.journal_path}\nreport: {played.report_path}\n",
        )
        context.say(f"junit: {write_junit(args.junit, document)}")
    context.say(f"journal: {played.journal_path}")
    context.say(f"report: {played.report_path}")
    if played.interrupted is not None:
        context.complain(f"interrupted ({signal.Signals(played.interrupted).name})")
        return interrupted_by(played.interrupted)
    if len(played.results) < len(suite.acts):
        return ExitCode.INFRASTRUCTURE_FAILED
    return suite_exit_code(played.results)


def _run_parallel(args: argparse.Namespace, context: Context, suite: Suite) -> int:
    try:
        bases = lane_bases_of(args.parallel, args.port_base)
    except ValueError as error:
        context.complain(str(error))
        return ExitCode.INVALID_INPUT
    lanes = plan_lanes(suite.acts, args.parallel, suite.together)
    for skip in suite.skipped:
        context.say(f"skipped {skip.name}: {skip.why}")
    directory = output_directory(args, "verify")
    jobs = [
        Job(
            f"{len(acts)} experiments: {', '.join(a.name for a in acts)}",
            verify_argv(
                args.paths,
                [a.name for a in acts],
                runtime=args.runtime,
                backend=args.backend,
                state_dir=directory / f"lane-{i}" / "stack",
                out=directory / f"lane-{i}",
            ),
            directory / f"lane-{i}",
        )
        for i, acts in enumerate(lanes, 1)
    ]
    context.say(
        f"{len(suite.acts)} experiments on {len(lanes)} lanes, each a fresh stack "
        f"(port bases {', '.join(map(str, bases[: len(lanes)]))}); lanes write to {directory}"
    )
    started, wall = datetime.now(UTC), time.time()
    ends, interrupted = run_jobs(jobs, bases[: len(lanes)], say=context.say)
    ended = {end.job: end for end in ends}
    pairs = [(acts, ended[job]) for acts, job in zip(lanes, jobs, strict=True)]
    results, not_run, interrupted = merge_lanes(suite.acts, pairs, interrupted)
    played = record(_suite_day(args, suite), directory, wall, tuple(results), interrupted)
    return _conclude(args, context, suite, played, not_run, started)


def merge_lanes(
    suite: Sequence[Act], lanes: Sequence[tuple[Sequence[Act], JobEnd]], interrupted: int | None
) -> tuple[list[ActResult], list[Skipped], int | None]:
    """Each lane's results (read back from its journals) and why the rest did not
    run, both in suite order, and the signal that stopped the run (this one's, or
    one a lane got itself)."""
    for _, end in lanes:
        if interrupted is None and end.status in (128 + signal.SIGINT, 128 + signal.SIGTERM):
            interrupted = end.status - 128
    results: list[ActResult] = []
    not_run: list[Skipped] = []
    for acts, end in lanes:
        found = lane_results(acts, end.job.out)
        results += found
        for act in acts[len(found) :]:
            if interrupted is not None or end.status is None:
                why = NOT_RUN
            else:
                why = f"not run: lane {end.lane} ended (exit {end.status}) before it: " + (
                    end.complaint
                )
            not_run.append(Skipped(act.name, act.experiment.source, why))
    order = {a.name: i for i, a in enumerate(suite)}
    results.sort(key=lambda r: order[r.name])
    not_run.sort(key=lambda s: order[s.name])
    return results, not_run, interrupted


COMMAND = Command(
    name="verify",
    help="run the resilience suite (experiments and game days) and write JUnit XML",
    description="Run every experiment, exploration and game day PATHS name (directories "
    "stand for their *.yaml files; default: the shipped experiment library and "
    "explorations) against the running stack. An exploration holds when every execution "
    "met the contract (docs/explore.md). "
    "A test case passes when the experiment's verdict is the one it predicts (`predicts: "
    "held`, the default, or `deviated`). Writes JUnit XML with --junit (one testsuite, a "
    "testcase per experiment, a failure naming the SLO or expectation and its measured "
    "value), the combined journal and the HTML report, and prints where they are. Exit 0 "
    "when every experiment passed, 1 when a verdict differed from its prediction, 3/4/5 "
    "when one got no verdict, 2 on invalid input. An experiment found in a directory that "
    "cannot run on this runtime is skipped. With --parallel N it starts N fresh stacks "
    "(lanes) instead of using the running one, keeps each game day on one lane, spreads "
    "the experiments longest-first, and writes one journal, report and JUnit file in suite "
    "order, with the same exit statuses.",
    configure=configure,
    run=run,
)
