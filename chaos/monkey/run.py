"""The monkey's loop: wait, check the window, choose among healthy opted-in
services, and act through the same fault drivers `chaosbed run` uses: inject
(with a TTL where the layer has one), verify, hold, roll back. Every choice and
every step goes to the journal before it is taken; whatever ends the loop (stop,
cancellation by SIGINT/SIGTERM, an error), every action it holds is rolled back
before it returns.

Not yet here (branch monkey-wip, see PLAN.md): the evidence check of each
action (`confirm_effect`), guardrails, pause/resume, notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from chaos.experiment import limits
from chaos.experiment.describe import describe_fault
from chaos.experiment.model import AppFault, Fault, NetworkFault, ProcessFault, Step
from chaos.faults.base import FaultDriver, Injection

from .journal import MonkeyJournal
from .schedule import Choice, Menu, MenuItem, Schedule, Window

__all__ = ["Monkey", "MonkeyConfig", "fault_of"]

Health = Callable[[], Awaitable[Mapping[str, bool]]]


@dataclass(frozen=True)
class MonkeyConfig:
    seed: int
    mean_s: float
    menu: Menu
    opted_in: tuple[str, ...]
    window: Window = Window()
    min_s: float = 1.0
    max_at_once: int = 1
    rollback_timeout_s: float = 20.0


def fault_of(victim: str, item: MenuItem) -> Fault:
    """The fault a menu item is on its victim."""
    params = dict(item.params)
    if item.kind in ("kill", "pause", "restart", "stop"):
        return ProcessFault(item.kind, target=victim)  # type: ignore[arg-type]
    if item.kind in ("latency", "error", "drop", "hang"):
        return AppFault(
            item.kind,  # type: ignore[arg-type]
            target=victim,
            delay_ms=float(params.get("delay_ms", 0.0)),  # type: ignore[arg-type]
            status=int(params.get("status", 503)),  # type: ignore[call-overload]
            percent=float(params.get("percent", 100.0)),  # type: ignore[arg-type]
            cohort=params.get("cohort", "any"),  # type: ignore[arg-type]
        )
    if item.kind == "isolate":
        return NetworkFault("isolate", target=victim)
    raise ValueError(f"the monkey has no fault called {item.kind!r}")


class Monkey:
    def __init__(
        self,
        config: MonkeyConfig,
        *,
        drivers: Sequence[FaultDriver],
        health: Health,
        takes: Mapping[str, frozenset[str]],
        journal: MonkeyJournal,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._drivers = drivers
        self._health = health
        self._takes = takes
        self._journal = journal
        self._wall = wall
        self._active: set[asyncio.Task[None]] = set()
        self._count = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Act until `stop` is set (or the task is cancelled); always roll back."""
        config = self.config
        schedule = Schedule(config.seed, config.mean_s, min_s=config.min_s)
        self._journal.write(
            "started", seed=config.seed, mean_s=config.mean_s, window=config.window.describe(),
            opted_in=list(config.opted_in), max_at_once=config.max_at_once,
        )  # fmt: skip
        try:
            while not stop.is_set():
                wait = schedule.wait()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await stop.wait()
                if stop.is_set():
                    break
                await self._maybe_act(schedule)
        finally:
            await self._roll_back_all()
            self._journal.write("stopped", actions=self._count)

    async def _maybe_act(self, schedule: Schedule) -> None:
        config = self.config
        if not config.window.open_at(self._wall()):
            self._journal.write("skipped", why=f"outside the window {config.window.describe()}")
            return
        if len(self._active) >= config.max_at_once:
            self._journal.write("skipped", why=f"{len(self._active)} actions already running")
            return
        healthy = dict(await self._health())
        choice = schedule.choose(config.opted_in, healthy, config.menu, takes=self._takes)
        if choice is None:
            self._journal.write("skipped", why="no opted-in service is healthy", healthy=healthy)
            return
        self._count += 1
        task = asyncio.create_task(self._act(self._count, choice))
        self._active.add(task)
        task.add_done_callback(self._active.discard)

    async def _act(self, number: int, choice: Choice) -> None:
        item = choice.fault
        step = Step(f"{number}-{item.kind}-{choice.victim}", fault_of(choice.victim, item),
                    0.0, item.duration_s)  # fmt: skip
        driver = next((d for d in self._drivers if d.accepts(step)), None)
        self._journal.write(
            "chosen", action=number, victim=choice.victim, fault=item.kind,
            duration_s=item.duration_s, candidates=list(choice.candidates),
            kinds=list(choice.kinds), description=describe_fault(step.fault),
        )  # fmt: skip
        if driver is None:
            self._journal.write("failed", action=number, why="no driver for this fault here")
            return
        injection = Injection(step.name, getattr(driver, "layer", "?"), describe_fault(step.fault))
        try:
            await driver.inject(step, injection, ttl=item.duration_s + limits.RULE_TTL_MARGIN)
            await driver.verify(step, injection)
            self._journal.write("injected", action=number, verification=injection.verification)
            await asyncio.sleep(item.duration_s)
        except asyncio.CancelledError:
            self._journal.write("interrupted", action=number)
            raise
        except Exception as exc:  # noqa: BLE001 - said in the journal; the rollback runs
            self._journal.write("failed", action=number, why=str(exc))
        finally:
            await self._roll_back(number, step, driver, injection)

    async def _roll_back(
        self, number: int, step: Step, driver: FaultDriver, injection: Injection
    ) -> None:
        """Roll one action back, shielded from the cancellation that may have ended it."""
        rollback = asyncio.ensure_future(driver.rollback(step, injection))
        try:
            async with asyncio.timeout(self.config.rollback_timeout_s):
                await asyncio.shield(rollback)
            self._journal.write("rolled_back", action=number, how=injection.rollback)
        except asyncio.CancelledError:
            await asyncio.wait({rollback}, timeout=self.config.rollback_timeout_s)
            self._journal.write("rolled_back", action=number, how=injection.rollback)
            raise
        except Exception as exc:  # noqa: BLE001 - a fault may be left: say so
            self._journal.write("rollback_failed", action=number, why=repr(exc))

    async def _roll_back_all(self) -> None:
        tasks = list(self._active)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
