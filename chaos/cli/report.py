"""`chaosbed report JOURNAL [-o FILE]`: a journal as one self-contained HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from chaos.exitcodes import ExitCode
from chaos.report import write_report

from .command import Command, Context

__all__ = ["COMMAND"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "journal", type=Path, help="a run's, an exploration's or a game day's journal (JSON)"
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="where to write the page (default: JOURNAL with .html)"
    )


def run(args: argparse.Namespace, context: Context) -> int:
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
    "Exit 2 when the journal cannot be read (the message names the field).",
    configure=configure,
    run=run,
)
