"""`chaosbed`: the argument parser over the subcommands, and the entry point.

Any chaos.errors.ChaosbedError a command lets through becomes its message
(and its hint) on stderr and its `exit_code`, here and nowhere else.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode, interrupted_by
from chaos.runtime.interrupts import Terminated, termination_raises

from . import (
    cleanup,
    demo,
    down,
    explore,
    export,
    gameday,
    history,
    lint,
    load,
    monkey,
    mutate,
    report,
    run,
    status,
    up,
    verify,
)
from .command import Command, Context, RuntimeFactory
from .runtime_options import make_runtime as real_runtime
from .runtime_options import resolve_stack_options

__all__ = ["COMMANDS", "build_parser", "main"]

#: Every subcommand, in the order `chaosbed --help` lists them.
COMMANDS: tuple[Command, ...] = (
    up.COMMAND,
    down.COMMAND,
    status.COMMAND,
    run.COMMAND,
    gameday.COMMAND,
    verify.COMMAND,
    mutate.COMMAND,
    explore.COMMAND,
    lint.COMMAND,
    report.COMMAND,
    export.COMMAND,
    load.COMMAND,
    cleanup.COMMAND,
    demo.COMMAND,
    history.COMMAND,
    monkey.COMMAND,
)


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chaosbed",
        description="A chaos-engineering and resilience testbed.",
        epilog="exit status: 0 ok (hypothesis held), 1 hypothesis deviated, 2 invalid input, "
        "3 steady state not met, 4 aborted, 5 the infrastructure failed, "
        "130/143 interrupted by SIGINT/SIGTERM",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in commands:
        sub = subparsers.add_parser(
            command.name, help=command.help, description=command.description or command.help
        )
        command.configure(sub)
        sub.set_defaults(command=command)
    return parser


def main(
    argv: list[str] | None = None,
    *,
    make_runtime: RuntimeFactory | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or invalid arguments (2)
        return exit_.code if isinstance(exit_.code, int) else int(ExitCode.INVALID_INPUT)
    command: Command | None = getattr(args, "command", None)
    if command is None:
        parser.print_usage()
        return ExitCode.INVALID_INPUT
    context = Context(make_runtime or real_runtime, out or sys.stdout, err or sys.stderr)
    try:
        resolve_stack_options(args, creating=command.name == "up")
        with termination_raises():
            return command.run(args, context)
    except ChaosbedError as failure:
        context.complain(str(failure))
        if failure.hint:
            context.complain(f"hint: {failure.hint}")
        return failure.exit_code
    except KeyboardInterrupt as interrupt:
        signum = Terminated.signum if isinstance(interrupt, Terminated) else signal.SIGINT
        context.complain(f"interrupted ({signal.Signals(signum).name})")
        return interrupted_by(signum)
