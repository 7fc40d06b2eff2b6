"""`chaosbed report JOURNAL [-o FILE] [--prometheus URL]`: a journal (a run's, a game
day's, an exploration's, or a monkey's JSON lines) as one self-contained HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from chaos.exitcodes import ExitCode
from chaos.report import write_report
from chaos.report.monkey import is_monkey_journal, write_monkey_report

from .command import Command, Context

__all__ = ["COMMAND"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "journal",
        type=Path,
        help="a run's, an exploration's or a game day's journal (JSON), a monkey's (JSON "
        "lines), or a Chaos Toolkit journal (`chaos run`'s)",
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="where to write the page (default: JOURNAL with .html)"
    )
    parser.add_argument(
        "--prometheus",
        metavar="URL",
        help="for a monkey's journal: the Prometheus that scraped the stack, to draw each "
        "service's availability under the actions (default: none, the actions alone)",
    )


def run(args: argparse.Namespace, context: Context) -> int:
    if is_monkey_journal(args.journal):
        out = args.output or args.journal.with_suffix(".html")
        written, why = write_monkey_report(args.journal, out, args.prometheus)
        if why:
            context.say(f"no availability drawn: {why}")
    else:
        written = write_report(args.journal, args.output)
    context.say(f"report: {written}")
    return ExitCode.OK


COMMAND = Command(
    name="report",
    help="render a journal as one self-contained HTML report",
    description="Write JOURNAL (from `chaosbed run`, `gameday`, `verify` or `explore`) as one "
    "HTML file "
    "that opens with no network: the verdict of each experiment and why, each SLI over time "
    "against its objective with the fault windows shaded and aborts marked, breaker state "
    "over time, the baseline against the values under fault, a timeline and a scorecard. "
    "A monkey's journal (`chaosbed monkey`) becomes its actions on a timeline, over each "
    "service's availability read from --prometheus, its halts and why, and every action's "
    "outcome. Exit 2 when the journal cannot be read (the message names the field).",
    configure=configure,
    run=run,
)
