"""`chaosbed gameday FILE`: a narrated sequence of experiments against the running stack."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from chaos.exitcodes import ExitCode, interrupted_by
from chaos.gameday import load_gameday, play, suite_exit_code, verdict_table

from .command import Command, Context
from .playing import act_runner, add_play_options, output_directory, unrunnable
from .runtime_options import choice_of

__all__ = ["COMMAND"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the game day (YAML; see docs/gamedays.md)")
    parser.add_argument(
        "--no-pause",
        action="store_true",
        help="never wait for Enter (also the case when stdin is not a terminal)",
    )
    add_play_options(parser)


def wait_for_enter(prompt: str) -> None:
    input(prompt)


def run(args: argparse.Namespace, context: Context) -> int:
    gameday = load_gameday(args.file)
    if unrunnable([gameday], args, context):
        return ExitCode.INVALID_INPUT
    runtime = context.make_runtime(choice_of(args))
    directory = output_directory(args, "gamedays")
    waits = not args.no_pause and sys.stdin.isatty()
    played = play(
        gameday,
        directory,
        act_runner(args, context, runtime),
        say=context.say,
        pause=wait_for_enter if waits else None,
    )
    context.say("\n" + verdict_table(played.results))
    context.say(f"journal: {played.journal_path}")
    context.say(f"report: {played.report_path}")
    if played.interrupted is not None:
        context.complain(f"interrupted ({signal.Signals(played.interrupted).name})")
        return interrupted_by(played.interrupted)
    if len(played.results) < len(gameday.acts):
        return ExitCode.INFRASTRUCTURE_FAILED
    return suite_exit_code(played.results)


COMMAND = Command(
    name="gameday",
    help="run a game day: narrated experiments, one combined journal and report",
    description="Run the experiments of the game day FILE one after another against the "
    "running stack, saying before each what happens next and what we expect and after it "
    "what we saw; wait for Enter where the file says `pause: true` (not with --no-pause, "
    "nor when stdin is not a terminal). Writes each experiment's journal, the combined "
    "journal and the HTML report, then prints the verdict table. Exit 0 when every "
    "experiment's verdict is the one it predicts, else 1 (3, 4 or 5 when one did not get "
    "a verdict: steady state not met, aborted, the infrastructure failed); 2 when the file "
    "is invalid.",
    configure=configure,
    run=run,
)
