"""The monkey's loop: wait, check the window, choose among healthy opted-in
services, and act through the same fault drivers `chaosbed run` uses: inject
(with a TTL where the layer has one), verify, hold, roll back. Every choice and
every step goes to the journal before it is taken; whatever ends the loop (stop,
cancellation by SIGINT/SIGTERM, an error), every action it holds is rolled back
before it returns.

Two things stop it acting without stopping it: the guard (guardrails.py: the
error budget burns or an SLO alert pages; it resumes by itself once the stack
has recovered for a while) and a pause by hand (`chaosbed monkey pause`, until
`resume`). Either rolls back every action it holds at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from chaos.experiment import limits
from chaos.experiment.describe import describe_fault
from chaos.experiment.model import AppFault, Fault, ProcessFault, Step
from chaos.faults.base import FaultDriver, Injection

from .guardrails import Guard, GuardReading
from .journal import MonkeyJournal
from .schedule import Choice, Menu, MenuItem, Schedule, Window

__all__ = ["Monkey", "MonkeyConfig", "fault_of"]

Health = Callable[[], Awaitable[Mapping[str, bool]]]
ReadGuard = Callable[[], Awaitable[GuardReading]]
#: Arms an end for a fault with no TTL of its own (a pause): given the instances
#: it holds and the TTL, returns what disarms it once the fault is rolled back.
ArmExpiry = Callable[[Sequence[str], float], Callable[[], None]]
#: The faults that hold their victim until someone lets go, with no TTL of their own.
HELD_KINDS = frozenset({"pause"})


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
        guard: tuple[Guard, ReadGuard] | None = None,
        arm_expiry: ArmExpiry | None = None,
        wall: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._drivers = drivers
        self._health = health
        self._takes = takes
        self._journal = journal
        self._guard = guard
        self._arm_expiry = arm_expiry
        self._wall = wall
        self._clock = clock
        self._active: dict[int, asyncio.Task[None]] = {}
        self._count = 0
        self.paused_by: str = ""  # who paused it by hand ("" when not paused)
        self.last_reading: GuardReading | None = None

    # -- state, for `chaosbed monkey status` and the control endpoint -----------

    @property
    def halted(self) -> bool:
        return self._guard is not None and self._guard[0].halted

    def status(self) -> dict[str, object]:
        state = "paused" if self.paused_by else "halted" if self.halted else "running"
        guard = self._guard[0] if self._guard else None
        return {
            "state": state,
            "actions": self._count,
            "active": sorted(self._active),
            "paused_by": self.paused_by,
            "halted_because": list(guard.reasons) if guard and guard.halted else [],
            "clear_for_s": round(guard.clear_for(self._clock()), 1) if guard else None,
            "guard": self.last_reading.to_json() if self.last_reading else None,
        }

    async def pause(self, by: str) -> bool:
        """Stop acting until `resume`, rolling back what it holds; False if already paused."""
        if self.paused_by:
            return False
        self.paused_by = by or "someone"
        self._journal.write("paused", by=self.paused_by, holding=sorted(self._active))
        await self._roll_back_all()
        return True

    def resume(self, by: str) -> bool:
        """Act again after a pause (a halt by the guard still holds); False if not paused."""
        if not self.paused_by:
            return False
        self._journal.write("unpaused", by=by or "someone", halted=self.halted)
        self.paused_by = ""
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Act until `stop` is set (or the task is cancelled); always roll back."""
        config = self.config
        schedule = Schedule(config.seed, config.mean_s, min_s=config.min_s)
        self._journal.write(
            "started", seed=config.seed, mean_s=config.mean_s, window=config.window.describe(),
            opted_in=list(config.opted_in), max_at_once=config.max_at_once,
        )  # fmt: skip
        guarding = asyncio.create_task(self._watch(stop)) if self._guard else None
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
            if guarding is not None:
                guarding.cancel()
                await asyncio.gather(guarding, return_exceptions=True)
            await self._roll_back_all()
            self._journal.write("stopped", actions=self._count)

    async def _watch(self, stop: asyncio.Event) -> None:
        """Read the guard every interval; halt (rolling back) or resume as it says."""
        assert self._guard is not None
        guard, read = self._guard
        while not stop.is_set():
            started = self._clock()
            reading = await read()
            self.last_reading = reading
            change = guard.observe(self._clock(), reading)
            if change == "halt":
                self._journal.write("halted", why=list(guard.reasons), reading=reading.to_json(),
                                    holding=sorted(self._active))  # fmt: skip
                await self._roll_back_all()
            elif change == "resume":
                self._journal.write("resumed", clear_for_s=guard.settings.recover_for_s,
                                    reading=reading.to_json())  # fmt: skip
            elapsed = self._clock() - started
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, guard.settings.interval_s - elapsed)):
                    await stop.wait()

    async def _maybe_act(self, schedule: Schedule) -> None:
        config = self.config
        if self.paused_by:
            self._journal.write("skipped", why=f"paused by {self.paused_by}")
            return
        if self._guard is not None and self._guard[0].halted:
            self._journal.write("skipped", why="halted: " + "; ".join(self._guard[0].reasons))
            return
        if not config.window.open_at(self._wall()):
            self._journal.write("skipped", why=f"outside the window {config.window.describe()}")
            return
        if len(self._active) >= config.max_at_once:
            self._journal.write("skipped", why=f"{len(self._active)} actions already running")
            return
        healthy = dict(await self._health())
        if self.paused_by or self.halted:  # while health was read
            self._journal.write("skipped", why="paused or halted while choosing")
            return
        choice = schedule.choose(config.opted_in, healthy, config.menu, takes=self._takes)
        if choice is None:
            self._journal.write("skipped", why="no opted-in service is healthy", healthy=healthy)
            return
        self._count += 1
        number = self._count
        task = asyncio.create_task(self._act(number, choice))
        self._active[number] = task
        task.add_done_callback(lambda _: self._active.pop(number, None))

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
        ttl = item.duration_s + limits.RULE_TTL_MARGIN
        disarm: Callable[[], None] | None = None
        try:
            try:
                await driver.inject(step, injection, ttl=ttl)
            finally:  # armed even when the inject failed half-way: it may have paused some
                instances = [i["ident"] for i in injection.handle.get("instances", [])]
                if item.kind in HELD_KINDS and instances and self._arm_expiry is not None:
                    disarm = self._arm_expiry(instances, ttl)
            await driver.verify(step, injection)
            self._journal.write("injected", action=number, verification=injection.verification,
                                ttl_s=ttl, expiry=disarm is not None)  # fmt: skip
            await asyncio.sleep(item.duration_s)
        except asyncio.CancelledError:
            self._journal.write("interrupted", action=number)
            raise
        except Exception as exc:  # noqa: BLE001 - said in the journal; the rollback runs
            self._journal.write("failed", action=number, why=str(exc))
        finally:
            if await self._roll_back(number, step, driver, injection) and disarm is not None:
                disarm()  # else it ends the pause when the TTL runs out

    async def _roll_back(
        self, number: int, step: Step, driver: FaultDriver, injection: Injection
    ) -> bool:
        """Roll one action back, shielded from the cancellation that may have ended it;
        whether it was."""
        rollback = asyncio.ensure_future(driver.rollback(step, injection))
        try:
            async with asyncio.timeout(self.config.rollback_timeout_s):
                await asyncio.shield(rollback)
            self._journal.write("rolled_back", action=number, how=injection.rollback)
            return True
        except asyncio.CancelledError:
            await asyncio.wait({rollback}, timeout=self.config.rollback_timeout_s)
            if rollback.done() and not rollback.cancelled() and rollback.exception() is None:
                self._journal.write("rolled_back", action=number, how=injection.rollback)
            else:
                why = repr(rollback.exception()) if rollback.done() else "it did not end in time"
                self._journal.write("rollback_failed", action=number, why=why)
            raise
        except Exception as exc:  # noqa: BLE001 - a fault may be left: say so
            self._journal.write("rollback_failed", action=number, why=repr(exc))
            return False

    async def _roll_back_all(self) -> None:
        tasks = list(self._active.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
