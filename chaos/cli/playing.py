"""What `chaosbed gameday` and `chaosbed verify` share: their options, the
checks before anything is touched, and running one act against the stack."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chaos.experiment import ExperimentError
from chaos.explore.exploration import Exploration
from chaos.explore.session import explore_into
from chaos.gameday import Act, GameDay, GameDayInvalid, RunAct
from chaos.runner import RunOptions
from chaos.runner.session import RunRequest, new_run_id
from chaos.runtime.interface import Runtime
from chaos.verify import Suite, collect

from .command import Context
from .run import run_interruptibly, runnable_problems
from .runtime_options import add_runtime_options

__all__ = ["act_runner", "add_play_options", "collect_runnable", "output_directory", "unrunnable"]


def add_play_options(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument(
        "--backend",
        choices=("auto", "prometheus", "scrape"),
        default="auto",
        help="where SLIs are read (default auto: the stack's Prometheus when it runs one)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="directory for the journals and the report (default STATE_DIR/<command>/RUN_ID)",
    )


def output_directory(args: argparse.Namespace, command: str) -> Path:
    directory: Path = args.out or args.state_dir / command / new_run_id()
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def unrunnable(gamedays: Sequence[GameDay], args: argparse.Namespace, context: Context) -> bool:
    """Say every reason an experiment cannot run here; True when there was one."""
    found = False
    for gameday in gamedays:
        for act in gameday.acts:
            for problem in runnable_problems(
                act.experiment, args.runtime, args.backend, args.state_dir
            ):
                context.complain(f"{gameday.source}: {act.name}: {problem}")
                found = True
    return found


def collect_runnable(
    paths: Sequence[Path], args: argparse.Namespace, context: Context
) -> Suite | None:
    """The experiments and game days under `paths`, sorted into what can run on
    this runtime and backend and what is skipped; None (each problem said) when
    a file is invalid."""

    def problems(act: Act) -> list[str]:
        return runnable_problems(act.experiment, args.runtime, args.backend, args.state_dir)

    try:
        suite = collect(paths, problems)
    except (ExperimentError, GameDayInvalid) as exc:
        context.complain(str(exc))
        return None
    for problem in suite.invalid:
        context.complain(problem)
    return None if suite.invalid else suite


def act_runner(args: argparse.Namespace, context: Context, runtime: Runtime) -> RunAct:
    def run_act(act: Act, journal: Path) -> int | None:
        if isinstance(act.experiment, Exploration):
            return explore_act(act.experiment, runtime, args.runtime, journal, context)
        request = RunRequest(
            act.experiment,
            args.runtime,
            journal,
            new_run_id(),
            backend=args.backend,
            options=RunOptions(),
        )
        _, received = asyncio.run(run_interruptibly(request, runtime, context))
        return received

    return run_act


def explore_act(
    exploration: Exploration, runtime: Runtime, runtime_name: str, journal: Path, context: Context
) -> int | None:
    """Play an exploration, writing its journal whatever happens; the signal that
    stopped it, or None. It changes nothing on the stack, so there is nothing to roll
    back: a signal just stops it."""
    received: list[int] = []

    async def explore() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(explore_into(exploration, runtime, runtime_name, journal))

        def interrupt(signum: int) -> None:
            if not received:
                received.append(signum)
                task.cancel(f"interrupted by {signal.Signals(signum).name}")

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, interrupt, signum)
        try:
            return await task
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(signum)

    try:
        document = asyncio.run(explore())
    except asyncio.CancelledError:
        return received[0] if received else signal.SIGINT
    if document["executions"]:
        context.say(
            f"explored: {len(document['executions'])} executions in "
            f"{document['duration_s']:g}s, {document['violations']} broke the contract"
        )
    return received[0] if received else None
