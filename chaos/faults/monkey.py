"""A monkey as a method step: continuous chaos for the step's duration, judged by the
run's SLOs like any fault.

`inject` starts a `chaos.monkey.Monkey` on the run's own drivers (so its rules
carry the run's tag, its process faults go through the runtime as a kill step's
do), `verify` checks that it runs, `confirm_effect` that it did not stop on
an error and that at least one of its actions had an effect (each action's
effect is confirmed as `chaosbed run` confirms a fault's, on the run's reader:
a monkey that changed nothing is no evidence), and `rollback` stops it, which
rolls back every action it holds. With a `guard`, it halts by itself as
`chaosbed monkey` does, reading the run's Prometheus. Each line of the
monkey's journal becomes an event of the run's journal (`monkey_chosen`,
`monkey_injected`, `monkey_rolled_back`, ...).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from chaos.experiment.model import MONKEY_FAULTS, MonkeyFault, MonkeyGuard, Step
from chaos.monkey.guardrails import Guard, GuardSettings, guard_on
from chaos.monkey.journal import MonkeyJournal
from chaos.monkey.run import Monkey, MonkeyConfig, ReadGuard, pause_expiry, readiness
from chaos.monkey.schedule import Menu, menu_item, opted_in
from chaos.runtime.interface import Runtime
from chaos.slo import PrometheusReader, SliReader

from .base import FaultDriver, Injection
from .errors import InjectionFailed, NoEffect, NotVerified, RollbackFailed

__all__ = ["MonkeyDriver"]


#: The kinds a monkey takes in every runtime.
KINDS = frozenset(MONKEY_FAULTS)


@dataclass
class _Running:
    monkey: Monkey
    journal: MonkeyJournal
    stop: asyncio.Event
    task: asyncio.Task[None]
    session: aiohttp.ClientSession | None = None  # its guard's, when it has one


class MonkeyDriver:
    layer = "monkey"
    #: its rollback waits for its actions' rollbacks (each up to the monkey's 45 s)
    rollback_timeout = 60.0

    def __init__(self, drivers: Sequence[FaultDriver], runtime: Runtime) -> None:
        self._drivers = list(drivers)
        self._runtime = runtime
        self._running: dict[str, _Running] = {}
        network = any(getattr(d, "layer", "") == "network" for d in self._drivers)
        self.kinds = KINDS if network else KINDS - {"partition"}
        self.reader: SliReader | None = None  # the run's, once wired: each action's evidence

    def accepts(self, step: Step) -> bool:
        return isinstance(step.fault, MonkeyFault)

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None:
        fault = step.fault
        assert isinstance(fault, MonkeyFault)
        names = [spec.name for spec in self._runtime.services]
        targets = fault.targets or opted_in(names)
        unknown = [t for t in targets if t not in names]
        if unknown or not targets:
            raise InjectionFailed(step.name, f"no such service here: {', '.join(unknown)}"
                                  if unknown else "no service opts in")  # fmt: skip
        menu = Menu(tuple(menu_item(kind, weight, fault.hold_s) for kind, weight in fault.menu))
        journal = MonkeyJournal(None)

        def relay(line: dict[str, Any]) -> None:
            if line["event"] != "skipped" or "window" not in str(line.get("why")):
                detail = {k: v for k, v in line.items() if k not in ("t", "event")}
                injection.note(f"monkey_{line['event']}", **detail)

        journal.listeners.append(relay)
        runtime = self._runtime

        health = readiness(runtime)

        config = MonkeyConfig(
            seed=fault.seed, mean_s=fault.mean_s, menu=menu, opted_in=targets,
            min_s=min(1.0, fault.mean_s / 4), max_at_once=fault.max_at_once,
            prefix=f"{step.name}-",
        )  # fmt: skip
        takes = dict.fromkeys(targets, frozenset(self.kinds))
        session, guard = self._guard(step.name, fault.guard)
        monkey = Monkey(config, drivers=self._drivers, health=health, takes=takes,
                        journal=journal, reader=self.reader, guard=guard,
                        arm_expiry=pause_expiry(self._runtime, step.name))  # fmt: skip
        stop = asyncio.Event()
        task = asyncio.create_task(monkey.run(stop))
        self._running[step.name] = _Running(monkey, journal, stop, task, session)
        injection.handle["monkey"] = {"targets": list(targets), "seed": fault.seed}

    def _guard(
        self, step: str, spec: MonkeyGuard | None
    ) -> tuple[aiohttp.ClientSession | None, tuple[Guard, ReadGuard] | None]:
        """The step's guardrails, reading the run's Prometheus (None: unguarded)."""
        if spec is None:
            return None, None
        reader = self.reader
        if not isinstance(reader, PrometheusReader):
            why = "a monkey's guard reads the stack's Prometheus, and this run reads none"
            raise InjectionFailed(step, f"{why} (--backend scrape, or no Prometheus)")
        settings = GuardSettings(max_burn=spec.max_burn, budget_window_s=spec.budget_window_s,
                                 recover_for_s=spec.recover_for_s, alerts=spec.alerts)  # fmt: skip
        session = aiohttp.ClientSession()
        return session, guard_on(session, reader.url, settings)

    async def verify(self, step: Step, injection: Injection) -> None:
        running = self._running.get(step.name)
        if running is None:
            raise NotVerified(step.name, "the monkey was never started")
        await asyncio.sleep(0)  # let it start
        if running.task.done():
            error = running.task.exception() if not running.task.cancelled() else None
            raise NotVerified(step.name, f"the monkey stopped at once: {error!r}")
        targets = ", ".join(injection.handle["monkey"]["targets"])
        injection.verification = f"the monkey runs (seed {step.fault.seed}) on {targets}"  # type: ignore[union-attr]

    async def confirm_effect(
        self, step: Step, injection: Injection, reader: SliReader, since: float
    ) -> None:
        running = self._running.get(step.name)
        if running is None:
            raise NoEffect(step.name, "the monkey never ran")
        if running.task.done() and not running.task.cancelled() and running.task.exception():
            raise NoEffect(step.name, f"the monkey stopped on {running.task.exception()!r}")
        lines = running.journal.lines
        injected = [line for line in lines if line["event"] == "injected"]
        failed = [line for line in lines if line["event"] == "failed"]
        effects = [line for line in lines if line["event"] == "effect"]
        silent = [line for line in lines if line["event"] == "no_effect"]
        chosen = {line["action"]: line for line in lines if line["event"] == "chosen"}
        if not effects:
            why = f"; {len(failed)} failed: {failed[0]['why']}" if failed else ""
            why += f"; {len(silent)} had no effect: {silent[0]['why']}" if silent else ""
            raise NoEffect(step.name, f"no action of the monkey had an effect in its step "
                           f"({len(injected)} injected){why}")  # fmt: skip
        done = [f"{chosen[line['action']]['fault']} {chosen[line['action']]['victim']}"
                for line in effects if line["action"] in chosen]  # fmt: skip
        others = [f"{len(failed)} could not be injected"] if failed else []
        others += [f"{len(silent)} had no effect"] if silent else []
        more = f"; {', '.join(others)}" if others else ""
        injection.effect = f"{len(effects)} actions with an effect ({', '.join(done)}){more}"

    async def rollback(self, step: Step, injection: Injection) -> None:
        running = self._running.pop(step.name, None)
        if running is None:
            injection.rollback = "no monkey ran"
            return
        running.stop.set()
        try:
            await asyncio.shield(running.task)
        finally:
            if running.session is not None:
                await running.session.close()
        lines = running.journal.lines
        rolled = sum(line["event"] == "rolled_back" for line in lines)
        broken = [line for line in lines if line["event"] == "rollback_failed"]
        if broken:
            raise RollbackFailed(step.name, f"{len(broken)} of the monkey's actions were not "
                                 f"rolled back: {broken[0]['why']}")  # fmt: skip
        injection.rollback = f"the monkey stopped; its {rolled} actions rolled back"
