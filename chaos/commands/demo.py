"""`chaosbed demo`: walk a member through the running stack, then degrade it gracefully."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .base import Command, Context, ExitCode

__all__ = ["COMMAND"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("CHAOSBED_STATE_DIR", ".chaosbed")),
        help="where `up` left the control token (default .chaosbed) [env CHAOSBED_STATE_DIR]",
    )


def run(args: argparse.Namespace, context: Context) -> int:
    from chaos.demo import DemoError, run_demo

    try:
        run_demo(args.state_dir)
    except DemoError as error:
        context.complain(str(error))
        return ExitCode.INFRASTRUCTURE
    return ExitCode.OK


COMMAND = Command(
    name="demo",
    help="show a running stack working, then degrading gracefully under a fault",
    description="Needs a running stack (`chaosbed up`). Injects a short application-layer "
    "fault and always removes it.",
    configure=configure,
    run=run,
)
