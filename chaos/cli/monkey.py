"""`chaosbed monkey`: continuous chaos against a running stack, with guardrails.

`chaosbed monkey` (or `monkey run`) picks a healthy opted-in service at random
every so often (exponential waits around --mean, only inside --window),
injects a fault from the weighted --faults menu through the same drivers
`chaosbed run` uses, verifies it, holds it --hold seconds and rolls it back,
and writes every choice and step to a JSON-lines journal. It halts by itself
(rolling back what it holds) while the stack's error budget burns faster than
--max-burn or an SLO alert pages, and resumes after --recover-for of calm. It
runs for --for, or until `chaosbed monkey stop`, SIGINT or SIGTERM; whatever
ends it, what it holds is rolled back. `chaosbed monkey pause|resume|stop|status`
act on the stack's running monkey. docs/monkey.md has the whole story.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import aiohttp
from aiohttp import web

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode, interrupted_by
from chaos.experiment import limits
from chaos.experiment.durations import parse_duration
from chaos.faults.app import AppFaultDriver
from chaos.faults.base import FaultDriver
from chaos.faults.control_client import ControlClient
from chaos.faults.network import NetworkFaultDriver
from chaos.faults.process import ProcessFaultDriver
from chaos.monkey import expiry
from chaos.monkey.control import (
    RUNNING_FILE,
    ControlError,
    call_running,
    control_app,
    metrics_app,
    write_running,
)
from chaos.monkey.guardrails import GuardSettings, guard_on
from chaos.monkey.journal import MonkeyJournal
from chaos.monkey.notify import MonkeyMetrics, Webhook
from chaos.monkey.run import Monkey, MonkeyConfig, pause_expiry, readiness
from chaos.monkey.schedule import Menu, menu_item, parse_window
from chaos.runner.wiring import RUN_TAG_PREFIX, load_metrics_host
from chaos.runtime.interface import Runtime
from chaos.runtime.layout import ports_for
from chaos.slo import PrometheusReader
from services.topology import HOST, SERVICES

from .command import Command, Context
from .runtime_options import add_runtime_options, choice_of

__all__ = ["COMMAND"]

ACTIONS = ("run", "pause", "resume", "stop", "status")
PROCESS_KINDS = frozenset({"kill", "pause", "restart"})
#: Application faults hit the experiment cohort only (the members whose id hashes
#: there: the load's --experiment-percent of them): the blast radius is that share.
APP_KINDS = frozenset({"latency", "error", "corrupt"})
#: Where each service has a network of its own (docker): the victim cut off from every
#: other service, both ways.
NETWORK_KINDS = frozenset({"partition"})
DEFAULT_MENU = "kill=2,pause=1,restart=1,latency=1,error=1"
#: The default menu where the runtime drives the network.
DEFAULT_NETWORK_MENU = f"{DEFAULT_MENU},partition=1"


def _seconds(text: str) -> float:
    seconds = parse_duration(text)
    if seconds is None or seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration like 10s or 2m, not {text!r}")
    return seconds


def _calm(text: str) -> float:
    seconds = parse_duration(text)
    if seconds is None or seconds < 0:
        raise argparse.ArgumentTypeError(f"expected a duration like 0s, 30s or 2m, not {text!r}")
    return seconds


def _menu(text: str | None, hold: float, runtime: str) -> Menu:
    """The --faults menu (None: the default for `runtime`)."""
    network = runtime == "docker"
    if text is None:
        text = DEFAULT_NETWORK_MENU if network else DEFAULT_MENU
    items = []
    known = PROCESS_KINDS | APP_KINDS | NETWORK_KINDS
    for part in text.split(","):
        kind, _, weight_text = part.partition("=")
        kind = kind.strip()
        if kind not in known:
            names = ", ".join(sorted(known))
            raise argparse.ArgumentTypeError(f"--faults: unknown fault {kind!r} (one of {names})")
        if kind in NETWORK_KINDS and not network:
            raise argparse.ArgumentTypeError(
                f"--faults: {kind} needs a network per service, which the {runtime} runtime "
                "does not have (--runtime docker)"
            )
        try:
            weight = float(weight_text or 1)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--faults: {kind}'s weight {weight_text!r} is not a number"
            ) from None
        items.append(menu_item(kind, weight, hold))
    try:
        return Menu(tuple(items))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--faults: {error}") from None


def _guard_settings(args: argparse.Namespace) -> GuardSettings:
    try:
        return GuardSettings(max_burn=args.max_burn, budget_window_s=args.budget_window,
                             recover_for_s=args.recover_for)  # fmt: skip
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


async def _metrics_for_prometheus(
    runtime: Runtime, metrics: MonkeyMetrics, port: int, context: Context
) -> web.AppRunner | None:
    """Serve /metrics where the stack's Prometheus scrapes the job `monkey` when that
    is not loopback (docker: the host's address on the containers' network, as the
    load generator does); None when loopback serves it already, or it cannot be."""
    try:
        host = await load_metrics_host(runtime)
    except ChaosbedError as error:
        context.say(f"warning: Prometheus will not see the monkey's metrics: {error}")
        return None
    if host == HOST:
        return None
    try:
        return await _serve(metrics_app(metrics), host, port)
    except OSError as error:
        context.say(f"warning: Prometheus will not see the monkey's metrics: {host}:{port}: "
                    f"{error}")  # fmt: skip
        return None


async def _serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """`app` listening on host:port; OSError, with nothing left listening, when it cannot."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    return runner


async def _play(args: argparse.Namespace, runtime: Runtime, context: Context) -> int:
    runtime_name = choice_of(args).name
    token = runtime.control_token()
    if token is None:
        context.complain("the stack runs with its fault control API off (no token)")
        return ExitCode.INFRASTRUCTURE_FAILED
    state_dir = Path(args.state_dir)
    running = state_dir / RUNNING_FILE
    if running.exists():
        try:
            other = await call_running(state_dir, "status", None, "", timeout_s=3)
        except ControlError:
            running.unlink(missing_ok=True)  # a monkey that died: its record is stale
        else:
            context.complain(f"a monkey already runs on this stack ({other.get('monkey')}, pid "
                             f"{other.get('pid')}): `chaosbed monkey stop` first")  # fmt: skip
            return ExitCode.INVALID_INPUT
    prometheus = None if args.no_guardrails else runtime.prometheus_url()
    if not args.no_guardrails and prometheus is None:
        context.complain(
            "the guardrails read the stack's Prometheus and this stack runs none "
            "(install prometheus, or --no-guardrails to run without them)"
        )
        return ExitCode.INFRASTRUCTURE_FAILED
    names = [spec.name for spec in runtime.services]
    for option, given in (("--opt-in", args.opt_in), ("--opt-out", args.opt_out)):
        unknown = sorted(set(given) - set(names))
        if unknown:
            context.complain(
                f"{option}: no service {', '.join(unknown)} (one of {', '.join(names)})"
            )
            return ExitCode.INVALID_INPUT
    opted_in = tuple(
        n for n in names
        if (n in args.opt_in or (n in SERVICES and SERVICES[n].monkey)) and n not in args.opt_out
    )  # fmt: skip
    if not opted_in:
        context.complain("no service opts in (the topology's opt-ins less --opt-out)")
        return ExitCode.INVALID_INPUT
    monkey_id = f"monkey-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    journal_path = Path(args.journal or state_dir / "monkey" / f"{monkey_id}.jsonl")
    journal = MonkeyJournal(journal_path)
    metrics = MonkeyMetrics()
    journal.listeners.append(metrics)
    ports = ports_for(state_dir, getattr(args, "port_base", None))
    stack = ports.project
    webhook = (
        Webhook(args.webhook, monkey=monkey_id, stack=stack, metrics=metrics)
        if args.webhook
        else None
    )
    if webhook is not None:
        journal.listeners.append(webhook)
    menu = _menu(args.faults, args.hold, runtime_name)
    async with aiohttp.ClientSession() as session:
        control = ControlClient({n: runtime.base_url(n) for n in names}, token, session)
        drivers: list[FaultDriver] = [
            AppFaultDriver(control, RUN_TAG_PREFIX + monkey_id),
            ProcessFaultDriver(runtime, rng=random.Random(args.seed)),
        ]
        kinds = PROCESS_KINDS | APP_KINDS
        network = runtime.network
        if network is not None:  # its rules end by themselves: a TTL helper each
            drivers.append(NetworkFaultDriver(network, run_id=monkey_id,
                                              tag=RUN_TAG_PREFIX + monkey_id))  # fmt: skip
            kinds |= NETWORK_KINDS

        health = readiness(runtime)

        guard = None
        reader = None if prometheus is None else PrometheusReader(prometheus, session=session)
        if prometheus is not None:
            settings = _guard_settings(args)
            shortest = limits.SCRAPES_PER_WINDOW * limits.SCRAPE_INTERVALS[runtime_name]
            if settings.budget_window_s < shortest:
                context.complain(
                    f"--budget-window {settings.budget_window_s:g}s is shorter than "
                    f"{shortest:g}s, {limits.SCRAPES_PER_WINDOW} scrapes of this stack's "
                    "Prometheus: no burn could ever be seen in it"
                )
                return ExitCode.INVALID_INPUT
            guard = guard_on(session, prometheus, settings)

        async def detached(instances: Sequence[str], ttl: float) -> Callable[[], Awaitable[None]]:
            """Where the runtime has no expiry of its own: a detached process."""
            armed = expiry.arm(runtime_name, state_dir, getattr(args, "port_base", None),
                               list(instances), ttl)  # fmt: skip
            return armed.disarm

        config = MonkeyConfig(
            seed=args.seed, mean_s=args.mean, menu=menu, opted_in=opted_in,
            window=parse_window(args.window), max_at_once=args.max_at_once,
        )  # fmt: skip
        takes = dict.fromkeys(opted_in, frozenset(kinds))
        monkey = Monkey(config, drivers=drivers, health=health, takes=takes, journal=journal,
                        guard=guard, arm_expiry=pause_expiry(runtime, monkey_id, detached),
                        reader=reader)  # fmt: skip
        stop = asyncio.Event()
        port = args.control_port or ports.monkey
        identity = {"monkey": monkey_id, "pid": os.getpid(), "stack": stack,
                    "journal": str(journal_path), "url": f"http://{HOST}:{port}"}  # fmt: skip
        try:
            server = await _serve(control_app(monkey, metrics, token, stop, identity), HOST, port)
        except OSError as error:
            context.complain(f"the monkey's endpoint cannot listen on {HOST}:{port}: {error} "
                             "(--control-port to choose another)")  # fmt: skip
            return ExitCode.INFRASTRUCTURE_FAILED
        scraped = await _metrics_for_prometheus(runtime, metrics, port, context)
        write_running(state_dir, identity)
        delivering = asyncio.create_task(webhook.deliver(session)) if webhook else None
        guarded = "no guardrails" if guard is None else f"guarded by {prometheus}"
        context.say(f"monkey {monkey_id}: journal {journal_path}; endpoint {identity['url']}; "
                    f"{guarded}")  # fmt: skip
        received: list[int] = []
        loop = asyncio.get_running_loop()

        def interrupt(signum: int) -> None:  # SIGINT, SIGTERM: stop, rolling back, once
            if not received:
                received.append(signum)
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, interrupt, signum)
        task = asyncio.create_task(monkey.run(stop))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({task, stopping}, timeout=args.for_,
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
            stop.set()
            await task
        finally:
            stopping.cancel()
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(signum)
            running.unlink(missing_ok=True)
            if webhook is not None and delivering is not None:
                await webhook.close(delivering)
            if scraped is not None:
                await scraped.cleanup()
            await server.cleanup()
    lines = journal.lines
    events = ("injected", "rolled_back", "failed", "rollback_failed", "halted")
    count = {event: sum(line["event"] == event for line in lines) for event in events}
    context.say(
        f"monkey {monkey_id}: {count['injected']} actions injected, {count['rolled_back']} "
        f"rolled back, {count['failed']} could not be injected, {count['rollback_failed']} "
        f"not rolled back; {count['halted']} halts"
    )
    if count["rollback_failed"]:
        context.complain("an action was not rolled back (the journal says which); its TTL or "
                         "`chaosbed cleanup` ends it")  # fmt: skip
        return ExitCode.INFRASTRUCTURE_FAILED
    return interrupted_by(received[0]) if received else ExitCode.OK


async def _command(args: argparse.Namespace, runtime: Runtime, context: Context) -> int:
    """pause, resume, stop or status of the stack's running monkey."""
    by = args.by or os.environ.get("USER", "") or "chaosbed monkey"
    token = runtime.control_token()
    try:
        answer = await call_running(Path(args.state_dir), args.action, token, by)
    except ControlError as error:
        context.complain(str(error))
        return ExitCode.INFRASTRUCTURE_FAILED
    if args.action == "status" or args.json:
        context.say(json.dumps(answer, indent=2))
        return ExitCode.OK
    state = answer.get("state")
    changed = "" if answer.get("changed") else " (it already was)"
    if args.action == "stop":
        context.say(f"monkey {answer.get('monkey', '?')}: stopping; it rolls back what it holds"
                    f"{changed}")  # fmt: skip
    else:
        context.say(f"monkey {answer.get('monkey', '?')}: {state}{changed}")
    return ExitCode.OK


def run(args: argparse.Namespace, context: Context) -> int:
    if args.action == "run" and choice_of(args).name == "cluster":
        context.complain(
            "a monkey does not run on the cluster runtime: its menu's application-layer "
            "faults would reach one pod of each service, and it holds no pod down "
            "(use --runtime process or docker)"
        )
        return ExitCode.INVALID_INPUT
    if args.action == "run":
        try:
            _menu(args.faults, args.hold, choice_of(args).name)
            parse_window(args.window)
            _guard_settings(args)
            if args.max_at_once < 1:
                raise ValueError("--max-at-once must be 1 or more")
            if args.control_port is not None and not 1024 <= args.control_port <= 65535:
                raise ValueError("--control-port must be 1024 to 65535")
        except (argparse.ArgumentTypeError, ValueError) as exc:
            context.complain(str(exc))
            return ExitCode.INVALID_INPUT
        return asyncio.run(_play(args, context.make_runtime(choice_of(args)), context))
    return asyncio.run(_command(args, context.make_runtime(choice_of(args)), context))


def configure(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)
    parser.add_argument("action", nargs="?", choices=ACTIONS, default="run", metavar="ACTION",
                        help="run a monkey (the default), or act on the one running")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed for every choice (default 0)")
    parser.add_argument("--mean", type=_seconds, default=60.0,
                        help="mean time between actions (default 60s)")  # fmt: skip
    parser.add_argument("--hold", type=_seconds, default=10.0,
                        help="how long each fault lasts (default 10s)")  # fmt: skip
    parser.add_argument("--for", dest="for_", type=_seconds, default=3600.0,
                        help="run this long (default 1h)")  # fmt: skip
    parser.add_argument("--window", default="always",
                        help="when actions may start: 'always' (default) or like "
                        "'mon-fri 09:00-17:00 Europe/London'")  # fmt: skip
    parser.add_argument("--faults", default=None,
                        help=f"the menu, kind=weight,... (default {DEFAULT_MENU}; with "
                        "--runtime docker also partition=1)")  # fmt: skip
    parser.add_argument("--opt-out", nargs="*", default=[], metavar="SERVICE",
                        help="services never chosen")  # fmt: skip
    parser.add_argument("--opt-in", nargs="*", default=[], metavar="SERVICE",
                        help="services chosen although the topology opts them out "
                        "(recommendations, playback)")  # fmt: skip
    parser.add_argument("--max-at-once", type=int, default=1,
                        help="actions at once, at most (default 1)")  # fmt: skip
    parser.add_argument("--journal", type=Path,
                        help="where to append the JSON-lines journal (default "
                        "<state-dir>/monkey/<id>.jsonl)")  # fmt: skip
    parser.add_argument("--max-burn", type=float, default=14.4,
                        help="halt while a service burns its error budget faster than this "
                        "(default 14.4)")  # fmt: skip
    parser.add_argument("--budget-window", type=_seconds, default=60.0,
                        help="the window the burn is measured over (default 60s)")  # fmt: skip
    parser.add_argument("--recover-for", type=_calm, default=60.0,
                        help="resume after this long with no burn and no alert "
                        "(default 60s)")  # fmt: skip
    parser.add_argument("--no-guardrails", action="store_true",
                        help="run without reading Prometheus (nothing halts the "
                        "monkey)")  # fmt: skip
    parser.add_argument("--webhook", metavar="URL",
                        help="POST each announced journal line here as JSON")  # fmt: skip
    parser.add_argument("--control-port", type=int, default=None,
                        help="the endpoint's port (default the stack's monkey port, 9096 "
                        "or N+9)")  # fmt: skip
    parser.add_argument("--by", default="",
                        help="pause/resume/stop: who, for the journal (default $USER)")  # fmt: skip
    parser.add_argument("--json", action="store_true",
                        help="pause/resume/stop: print the monkey's answer as JSON")  # fmt: skip


COMMAND = Command(
    name="monkey",
    help="continuous chaos: random faults on healthy services, guarded, each rolled back",
    description=__doc__ or "",
    configure=configure,
    run=run,
)
