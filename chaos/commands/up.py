"""`chaosbed up`: start the stack and return once every service is ready."""

from __future__ import annotations

import argparse

from .base import Command, Context, ExitCode
from .runtime_options import add_runtime_options
from .table import render_status

__all__ = ["COMMAND"]


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="how long every service has to become ready (process: 30, docker: 180)",
    )


def run(args: argparse.Namespace, context: Context) -> int:
    runtime = context.make_runtime(args.runtime, args.state_dir, args.timeout)
    statuses = runtime.up()
    context.say(f"the stack is up ({args.runtime} runtime, state in {args.state_dir})")
    context.say(render_status(statuses))
    return ExitCode.OK


COMMAND = Command(
    name="up",
    help="start the services and return once every one is ready",
    description="Start the stack in the background (like `docker compose up -d`) and return "
    "once every service answers 200 on /readyz. A second `up`, a busy port or a service that "
    "never becomes ready is refused with exit status 5, and leaves nothing running.",
    configure=configure,
    run=run,
)
