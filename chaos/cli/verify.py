"""`chaosbed verify [PATHS...] [--junit FILE]`: the resilience suite, for CI.

Runs every experiment and game day the paths name (default: the shipped
experiment library) against the running stack, writes JUnit XML, the
combined journal and the report, and exits non-zero when any experiment's
verdict is not the one it predicts.
"""

from __future__ import annotations

import argparse
import signal
from datetime import UTC, datetime
from pathlib import Path

from chaos.exitcodes import ExitCode, interrupted_by
from chaos.gameday import GameDay, play, suite_exit_code, verdict_table
from chaos.verify import Skipped, junit_xml, write_junit

from .command import Command, Context
from .playing import act_runner, add_play_options, collect_runnable, output_directory
from .runtime_options import choice_of

__all__ = ["COMMAND", "LIBRARY"]

#: The shipped experiments: what `chaosbed verify` runs when given no path.
LIBRARY = Path(__file__).resolve().parent.parent / "experiments"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="experiment files, game day files and directories of them "
        "(default: the shipped experiment library)",
    )
    parser.add_argument("--junit", type=Path, help="write JUnit XML here")
    add_play_options(parser)


def run(args: argparse.Namespace, context: Context) -> int:
    suite = collect_runnable(args.paths or [LIBRARY], args, context)
    if suite is None:
        return ExitCode.INVALID_INPUT
    if not suite.acts:
        context.complain("nothing to verify: no experiment here can run on this runtime")
        return ExitCode.INVALID_INPUT
    for skip in suite.skipped:
        context.say(f"skipped {skip.name}: {skip.why}")
    runtime = context.make_runtime(choice_of(args))
    directory = output_directory(args, "verify")
    started = datetime.now(UTC)
    suite_day = GameDay(
        f"chaosbed verify: {len(suite.acts)} experiments ({args.runtime} runtime)",
        "",
        " ".join(str(p) for p in args.paths) or str(LIBRARY),
        suite.acts,
    )
    played = play(suite_day, directory, act_runner(args, context, runtime),
                  say=context.say, pause=None)  # fmt: skip
    context.say("\n" + verdict_table(played.results))
    ran = {r.name for r in played.results}
    not_run = [
        Skipped(a.name, a.experiment.source, "not run: the suite stopped before it")
        for a in suite.acts
        if a.name not in ran
    ]
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


COMMAND = Command(
    name="verify",
    help="run the resilience suite (experiments and game days) and write JUnit XML",
    description="Run every experiment and game day PATHS name (directories stand for their "
    "*.yaml files; default: the shipped experiment library) against the running stack. "
    "A test case passes when the experiment's verdict is the one it predicts (`predicts: "
    "held`, the default, or `deviated`). Writes JUnit XML with --junit (one testsuite, a "
    "testcase per experiment, a failure naming the SLO or expectation and its measured "
    "value), the combined journal and the HTML report, and prints where they are. Exit 0 "
    "when every experiment passed, 1 when a verdict differed from its prediction, 3/4/5 "
    "when one got no verdict, 2 on invalid input. An experiment found in a directory that "
    "cannot run on this runtime is skipped.",
    configure=configure,
    run=run,
)
