"""`chaosbed down`: stop the stack and everything it started."""

from __future__ import annotations

import argparse

from chaos.exitcodes import ExitCode

from .command import Command, Context
from .runtime_options import add_runtime_options, choice_of

__all__ = ["COMMAND"]


def configure(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)


def run(args: argparse.Namespace, context: Context) -> int:
    runtime = context.make_runtime(choice_of(args))
    if runtime.down():
        context.say(f"the stack is down ({args.runtime} runtime, state in {args.state_dir})")
    else:
        context.say(f"nothing to stop: no {args.runtime} stack is running from {args.state_dir}")
    return ExitCode.OK


COMMAND = Command(
    name="down",
    help="stop the services and everything the stack started",
    description="Stop the stack and wait until none of its processes (or containers) remain. "
    "Idempotent: with nothing running it says so and exits 0.",
    configure=configure,
    run=run,
)
