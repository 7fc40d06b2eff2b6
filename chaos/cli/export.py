"""`chaosbed export --format ctk EXPERIMENT`: a chaosbed experiment in another tool's format."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from chaos.exitcodes import ExitCode
from chaos.experiment import ExperimentError
from chaos.explore.exploration import Exploration, load_playable

from .command import Command, Context

__all__ = ["COMMAND"]

FORMATS = ("ctk",)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", type=Path, help="a chaosbed experiment (YAML)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        required=True,
        help="ctk: a Chaos Toolkit experiment (JSON) for `chaos run`",
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="where to write it (default: standard output)"
    )


def run(args: argparse.Namespace, context: Context) -> int:
    from chaos.ctk.export import export_file  # chaos.ctk finds stacks through chaos.cli

    try:
        if isinstance(load_playable(args.experiment), Exploration):
            context.complain(
                f"{args.experiment}: an exploration, not an experiment: only experiments "
                "export (an exploration sends signed request plans, which CTK has no activity for)"
            )
            return ExitCode.INVALID_INPUT
        exported = export_file(args.experiment)
    except ExperimentError as exc:
        context.complain(str(exc))
        return ExitCode.INVALID_INPUT
    except OSError as exc:
        context.complain(f"{args.experiment}: {exc.strerror or exc}")
        return ExitCode.INVALID_INPUT
    text = json.dumps(exported, indent=2, default=str) + "\n"  # YAML dates: as written
    if args.output is None:
        context.out.write(text)
        return ExitCode.OK
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    except OSError as exc:
        context.complain(f"--output {args.output}: {exc.strerror or exc}")
        return ExitCode.INVALID_INPUT
    context.say(f"{args.format}: {args.output}")
    return ExitCode.OK


COMMAND = Command(
    name="export",
    help="write an experiment in another tool's format (a Chaos Toolkit experiment)",
    description="Write EXPERIMENT as a Chaos Toolkit experiment (--format ctk, JSON) that "
    "reaches the same verdict under `chaos run` on the same stack: it carries the chaosbed "
    "experiment, declares chaosbed's control (which runs its load, steady state, SLO "
    "judging and abort conditions, and rolls back whatever ends the run), plays each step "
    "as a CTK action and reads chaosbed's verdict in the hypothesis after the method. "
    "Exit 2 when EXPERIMENT is not a valid experiment (naming line and field). What does "
    "not translate: docs/ctk.md.",
    configure=configure,
    run=run,
)
