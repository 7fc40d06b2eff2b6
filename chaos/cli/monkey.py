"""`chaosbed monkey`: continuous chaos against a running stack (work in progress on
branch monkey-wip: no guardrails, notifications or evidence checks yet).

Picks a healthy opted-in service at random every so often (exponential waits
around --mean, in --window), injects a fault from the weighted --faults menu
through the same drivers `chaosbed run` uses, holds it --hold seconds, rolls it
back, and writes every choice and step to a JSON-lines journal. Runs for --for
(or until SIGINT/SIGTERM); whatever ends it, what it holds is rolled back.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from pathlib import Path

import aiohttp

from chaos.exitcodes import ExitCode
from chaos.experiment.durations import parse_duration
from chaos.faults.app import AppFaultDriver
from chaos.faults.base import FaultDriver
from chaos.faults.control_client import ControlClient
from chaos.faults.network import NetworkFaultDriver
from chaos.faults.process import ProcessFaultDriver
from chaos.monkey.journal import MonkeyJournal
from chaos.monkey.run import Monkey, MonkeyConfig
from chaos.monkey.schedule import Menu, MenuItem, parse_window
from chaos.runner.wiring import RUN_TAG_PREFIX
from chaos.runtime.interface import Runtime

from .command import Command, Context
from .runtime_options import add_runtime_options, choice_of

__all__ = ["COMMAND"]

PROCESS_KINDS = frozenset({"kill", "pause", "restart"})
APP_KINDS = frozenset({"latency", "error"})


def _seconds(text: str) -> float:
    seconds = parse_duration(text)
    if seconds is None or seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration like 10s or 2m, not {text!r}")
    return seconds


def _menu(text: str, hold: float) -> Menu:
    items = []
    for part in text.split(","):
        kind, _, weight = part.partition("=")
        kind = kind.strip()
        if kind not in PROCESS_KINDS | APP_KINDS | {"isolate"}:
            known = ", ".join(sorted(PROCESS_KINDS | APP_KINDS | {"isolate"}))
            raise argparse.ArgumentTypeError(f"unknown fault {kind!r} (one of {known})")
        params = {"delay_ms": 500.0} if kind == "latency" else {}
        items.append(MenuItem(kind, float(weight or 1), hold, params))
    return Menu(tuple(items))


async def _play(args: argparse.Namespace, runtime: Runtime, context: Context) -> int:
    token = runtime.control_token()
    if token is None:
        context.complain("the stack runs with its fault control API off (no token)")
        return ExitCode.INFRASTRUCTURE_FAILED
    names = [spec.name for spec in runtime.services]
    opted_in = tuple(n for n in names if n not in set(args.opt_out))
    monkey_id = f"monkey-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    journal_path = args.journal or Path(args.state_dir) / "monkey" / f"{monkey_id}.jsonl"
    journal = MonkeyJournal(Path(journal_path))
    async with aiohttp.ClientSession() as session:
        control = ControlClient({n: runtime.base_url(n) for n in names}, token, session)
        drivers: list[FaultDriver] = [
            AppFaultDriver(control, RUN_TAG_PREFIX + monkey_id),
            ProcessFaultDriver(runtime, rng=random.Random(args.seed)),
        ]
        kinds = set(PROCESS_KINDS | APP_KINDS)
        if runtime.network is not None:
            drivers.append(
                NetworkFaultDriver(
                    runtime.network, run_id=monkey_id, tag=RUN_TAG_PREFIX + monkey_id
                )
            )
            kinds.add("isolate")
        menu = _menu(args.faults, args.hold)

        async def health() -> dict[str, bool]:
            return {s.name: s.ready for s in await asyncio.to_thread(runtime.status)}

        config = MonkeyConfig(
            seed=args.seed, mean_s=args.mean, menu=menu, opted_in=opted_in,
            window=parse_window(args.window), max_at_once=args.max_at_once,
        )  # fmt: skip
        takes = dict.fromkeys(opted_in, frozenset(kinds))
        monkey = Monkey(config, drivers=drivers, health=health, takes=takes, journal=journal)
        stop = asyncio.Event()
        context.say(f"monkey {monkey_id}: journal {journal_path}")
        task = asyncio.create_task(monkey.run(stop))
        try:
            async with asyncio.timeout(args.for_):
                await asyncio.shield(task)
        except TimeoutError:
            stop.set()
            await task
        except asyncio.CancelledError:  # SIGINT/SIGTERM: roll back while the session lives
            stop.set()
            await asyncio.shield(task)
            raise
    failed = [line for line in journal.lines if line["event"] in ("failed", "rollback_failed")]
    acted = sum(line["event"] == "rolled_back" for line in journal.lines)
    context.say(f"monkey {monkey_id}: {acted} actions rolled back, {len(failed)} failed")
    return ExitCode.INFRASTRUCTURE_FAILED if failed else ExitCode.OK


def run(args: argparse.Namespace, context: Context) -> int:
    try:
        _menu(args.faults, args.hold)
        parse_window(args.window)
    except (argparse.ArgumentTypeError, ValueError) as exc:
        context.complain(str(exc))
        return ExitCode.INVALID_INPUT
    return asyncio.run(_play(args, context.make_runtime(choice_of(args)), context))


def configure(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed for every choice (default 0)")
    parser.add_argument("--mean", type=_seconds, default=60.0, help="mean time between actions")
    parser.add_argument("--hold", type=_seconds, default=10.0, help="how long each fault lasts")
    parser.add_argument("--for", dest="for_", type=_seconds, default=3600.0, help="run this long")
    parser.add_argument("--window", default="always", help="'always' or 'mon-fri 09:00-17:00 UTC'")
    parser.add_argument("--faults", default="kill=2,pause=1,restart=1,latency=1,error=1",
                        help="the menu: kind=weight,...")  # fmt: skip
    parser.add_argument("--opt-out", nargs="*", default=[], help="services never chosen")
    parser.add_argument("--max-at-once", type=int, default=1, help="actions at once, at most")
    parser.add_argument("--journal", type=Path, help="where to append the JSON-lines journal")


COMMAND = Command(
    name="monkey",
    help="continuous chaos: random faults on healthy services, each rolled back (WIP)",
    description=__doc__ or "",
    configure=configure,
    run=run,
)
