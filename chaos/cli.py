"""The `chaosbed` command line: argparse subcommands, each in its own module in chaos.commands.

Exit codes (DESIGN): 0 ok, 1 hypothesis deviated, 2 invalid input, 3 steady
state not met, 4 aborted, 5 the infrastructure failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from chaos.commands import COMMANDS, Command, Context, ExitCode, RuntimeFactory
from chaos.commands.runtime_options import make_runtime as real_runtime
from chaos.runtime.errors import RuntimeFailure

__all__ = ["build_parser", "main"]


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chaosbed",
        description="A chaos-engineering and resilience testbed.",
        epilog="exit status: 0 ok, 1 hypothesis deviated, 2 invalid input, "
        "3 steady state not met, 4 aborted, 5 the infrastructure failed",
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
        return exit_.code if isinstance(exit_.code, int) else ExitCode.INVALID_INPUT
    command: Command | None = getattr(args, "command", None)
    if command is None:
        parser.print_usage()
        return ExitCode.INVALID_INPUT
    context = Context(make_runtime or real_runtime, out or sys.stdout, err or sys.stderr)
    try:
        return command.run(args, context)
    except RuntimeFailure as failure:
        context.complain(str(failure))
        return failure.exit_code
    except KeyboardInterrupt:
        context.complain("interrupted")
        return 130
