"""`chaosbed status`: each service's process and health, as a table or JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json

from chaos.exitcodes import ExitCode

from .command import Command, Context
from .runtime_options import add_runtime_options, choice_of
from .status_table import render_status

__all__ = ["COMMAND"]


def configure(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace, context: Context) -> int:
    statuses = context.make_runtime(choice_of(args)).status()
    if args.json:
        context.say(json.dumps([dataclasses.asdict(s) for s in statuses], indent=2))
    else:
        context.say(render_status(statuses))
    if statuses and all(s.ready for s in statuses):
        return ExitCode.OK
    if all(s.state == "stopped" for s in statuses):
        context.complain("the stack is not running; `chaosbed up` starts it")
    else:
        not_ready = ", ".join(s.name for s in statuses if not s.ready)
        context.complain(f"not ready: {not_ready}")
    return ExitCode.INFRASTRUCTURE_FAILED


COMMAND = Command(
    name="status",
    help="show each service's pid, state, health and restarts",
    description="Show each service's pid, state, health (/healthz and /readyz) and restart "
    "count. Exits 0 when every service is ready, 5 otherwise (including when nothing runs).",
    configure=configure,
    run=run,
)
