"""`chaosbed history check FILE`: judge a saved history of profile operations.

Prints the counts, every finding with the ids of the operations that show
it, and the findings by device type (``--json`` for the whole report). Exit
status: 0 when the history is valid (nothing lost, conflicting, unwritten,
partial, non-monotonic, stale outside the fault windows or divergent, and
there was something to judge); 1 when it is not; 2 when the file cannot be
read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from chaos.exitcodes import ExitCode
from chaos.experiment.durations import parse_duration
from chaos.history import HistoryError, check_history, load_history
from chaos.history.checker import DECISIVE

from .command import Command, Context

__all__ = ["COMMAND"]

SHOWN_FINDINGS = 40


def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(title="actions", metavar="ACTION", dest="action")
    check = actions.add_parser("check", help="check a saved history file")
    check.add_argument("file", type=Path, help="the JSONL history file")
    check.add_argument(
        "--bound", default="5s", help="stale-read and convergence bound (default 5s)"
    )
    check.add_argument("--json", action="store_true", help="print the report as JSON")


def _run(args: argparse.Namespace, ctx: Context) -> int:
    if getattr(args, "action", None) != "check":
        ctx.complain("history: say what to do: `chaosbed history check FILE`")
        return ExitCode.INVALID_INPUT
    bound = parse_duration(args.bound)
    if bound is None or bound <= 0:
        ctx.complain(f"--bound: {args.bound!r} is not a duration such as 5s or 500ms")
        return ExitCode.INVALID_INPUT
    try:
        history = load_history(args.file)
    except HistoryError as exc:
        ctx.complain(f"{args.file}: {exc}")
        return ExitCode.INVALID_INPUT
    report = check_history(history, bound_s=bound)
    if args.json:
        ctx.say(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        ctx.say(f"{'valid' if report.valid else 'INVALID'}: {report.summary()}")
        for kind in (*DECISIVE, "stale_in_fault"):
            ids = sorted({i for f in report.findings if f.kind == kind for i in f.ops})
            if ids:
                shown = ", ".join(map(str, ids[:20])) + (" ..." if len(ids) > 20 else "")
                name = "stale-during-faults" if kind == "stale_in_fault" else kind
                ctx.say(f"  {name.replace('_', '-')} ops: {shown}")
        for finding in report.findings[:SHOWN_FINDINGS]:
            ctx.say(f"  {finding.kind.replace('_', '-')} [{finding.device_type}]: {finding.detail}")
        if len(report.findings) > SHOWN_FINDINGS:
            ctx.say(f"  ... {len(report.findings) - SHOWN_FINDINGS} more (--json for all)")
        for line in (*report.divergent, *report.notes):
            ctx.say(f"  {line}")
        ctx.say("by device type:")
        for line in report.device_lines():
            ctx.say(f"  {line}")
    return ExitCode.OK if report.valid else ExitCode.DEVIATED


COMMAND = Command(
    name="history",
    help=(
        "check a saved history of profile operations (lost, conflicting, unwritten,"
        " partial, stale, divergent; by device type)"
    ),
    configure=_configure,
    run=_run,
)
