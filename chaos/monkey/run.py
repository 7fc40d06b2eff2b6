"""The monkey's loop: wait, check the window, choose among healthy opted-in
services, and act through the same fault drivers `chaosbed run` uses: inject
(with a TTL where the layer has one), verify, hold, confirm its effect, roll
back. Every choice and every step goes to the journal before it is taken;
whatever ends the loop (stop, cancellation by SIGINT/SIGTERM, an error), every
action it holds is rolled back before it returns.

Two things stop it acting without stopping it: the guard (guardrails.py: the
error budget burns or an SLO alert pages; it resumes by itself once the stack
has recovered for a while) and a pause by hand (`chaosbed monkey pause`, until
`resume`). Either rolls back every action it holds at once. With a guard, an
action starts only on a clear reading no older than `fresh_s`: a guard that
stopped reading, or has not read yet, is a halt.

An injection is never cancelled half-way (a pause in a worker thread would
land after its rollback): a cancellation waits for it to end, then rolls back.
A victim holds one action at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaos.experiment import limits
from chaos.experiment.describe import describe_fault
from chaos.experiment.model import AppFault, Fault, NetworkFault, ProcessFault, Step
from chaos.faults.base import FaultDriver, Injection
from chaos.faults.errors import FaultError
from chaos.slo import SliReader

from .guardrails import Guard, GuardReading
from .journal import MonkeyJournal
from .schedule import Choice, Menu, MenuItem, Schedule, Window

__all__ = [
    "EXPIRY_SLACK_S",
    "ArmExpiry",
    "Disarm",
    "Monkey",
    "MonkeyConfig",
    "fault_of",
    "pause_expiry",
    "readiness",
]

Health = Callable[[], Awaitable[Mapping[str, bool]]]
ReadGuard = Callable[[], Awaitable[GuardReading]]
#: What disarms an expiry once its fault is rolled back.
Disarm = Callable[[], Awaitable[None]]
#: Arms an end for a fault with no TTL of its own (a pause), before it is injected:
#: given the victim service and the TTL, it ends the fault on every instance of the
#: service still paused then (each service runs one instance, and a paused one is
#: not ready, so its service is not chosen again while the pause lasts), and
#: returns what disarms it once the fault is rolled back (None: nothing could be
#: armed here).
ArmExpiry = Callable[[str, float], Awaitable[Disarm | None]]
#: The faults that hold their victim until someone lets go, with no TTL of their own.
HELD_KINDS = frozenset({"pause"})
#: An expiry is armed before the fault is injected and verified: it waits this much
#: more than the fault's TTL, the longest an inject and a verification take.
EXPIRY_SLACK_S = 10.0


@dataclass(frozen=True)
class MonkeyConfig:
    seed: int
    mean_s: float
    menu: Menu
    opted_in: tuple[str, ...]
    window: Window = Window()
    min_s: float = 1.0
    max_at_once: int = 1
    # more than the longest rollback a driver may take (a restarted instance has
    # 30 s to be ready), so a slow rollback is waited for, not reported failed
    rollback_timeout_s: float = 45.0
    # the actions' step names start with it: two monkeys in one run never share a tag
    prefix: str = ""
    # with a guard: the newest clear reading an action may start on
    fresh_s: float = 3.0


def pause_expiry(
    runtime: Any,
    owner: str,
    fallback: Callable[[Sequence[str], float], Awaitable[Disarm]] | None = None,
) -> ArmExpiry:
    """The monkey's pause expiry on `runtime`: the runtime's own (`expire_pause`, a
    helper container on docker) for every instance of the victim service, else
    `fallback` given those instances, else none."""

    async def arm(service: str, ttl: float) -> Disarm | None:
        instances = [i.instance for i in await runtime.instances(service)]
        disarm: Disarm | None = await runtime.expire_pause(instances, ttl, owner)
        if disarm is None and fallback is not None:
            return await fallback(instances, ttl)
        return disarm

    return arm


def readiness(runtime: Any) -> Health:
    """The monkey's health check on `runtime`: each service's readiness, as `status` says."""

    async def health() -> dict[str, bool]:
        return {s.name: s.ready for s in await asyncio.to_thread(runtime.status)}

    return health


def fault_of(victim: str, item: MenuItem) -> Fault:
    """The fault a menu item is on its victim: one instance of it, as Chaos Monkey
    takes one instance of a cluster."""
    params = dict(item.params)
    if item.kind in ("kill", "pause", "restart"):
        return ProcessFault(item.kind, target=victim, instances=1)  # type: ignore[arg-type]
    if item.kind in ("latency", "error", "corrupt"):
        return AppFault(
            item.kind,  # type: ignore[arg-type]
            target=victim,
            delay_ms=float(params.get("delay_ms", 0.0)),  # type: ignore[arg-type]
            status=int(params.get("status", 503)),  # type: ignore[call-overload]
            percent=float(params.get("percent", 100.0)),  # type: ignore[arg-type]
            cohort=params.get("cohort", "any"),  # type: ignore[arg-type]
            message=params.get("message", "response"),  # type: ignore[arg-type]
        )
    if item.kind == "partition":  # cut off from every other service; Prometheus still scrapes
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
        guard: tuple[Guard, ReadGuard] | None = None,
        arm_expiry: ArmExpiry | None = None,
        reader: SliReader | None = None,
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
        self._reader = reader
        self._wall = wall
        self._clock = clock
        self._active: dict[int, asyncio.Task[None]] = {}
        self._victims: dict[int, str] = {}
        self._count = 0
        self.paused_by: str = ""  # who paused it by hand ("" when not paused)
        self.last_reading: GuardReading | None = None
        self._read_at: float | None = None  # when last_reading was taken (clock)
        self._watching: asyncio.Task[None] | None = None

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

    # -- the loop ----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Act until `stop` is set (or the task is cancelled); always roll back."""
        config = self.config
        schedule = Schedule(config.seed, config.mean_s, min_s=config.min_s)
        self._journal.write(
            "started", seed=config.seed, mean_s=config.mean_s, window=config.window.describe(),
            opted_in=list(config.opted_in), max_at_once=config.max_at_once,
        )  # fmt: skip
        if self._guard is not None:
            self._watching = asyncio.create_task(self._watch(stop))
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
            if self._watching is not None:
                self._watching.cancel()
                await asyncio.gather(self._watching, return_exceptions=True)
            await self._roll_back_all()
            self._journal.write("stopped", actions=self._count)

    async def _watch(self, stop: asyncio.Event) -> None:
        """Read the guard every interval; halt (rolling back, beside the readings) or
        resume as it says. A reading that raises is a blind one: it halts."""
        assert self._guard is not None
        guard, read = self._guard
        rolling: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            started = self._clock()
            try:
                reading = await read()
            except Exception as error:  # noqa: BLE001 - a guard that cannot read halts
                reading = GuardReading(error=f"reading failed: {error!r}")
            self.last_reading, self._read_at = reading, self._clock()
            change = guard.observe(self._clock(), reading)
            if change == "halt":
                self._journal.write("halted", why=list(guard.reasons), reading=reading.to_json(),
                                    holding=sorted(self._active))  # fmt: skip
                task = asyncio.create_task(self._roll_back_all())
                rolling.add(task)
                task.add_done_callback(rolling.discard)
            elif change == "resume":
                self._journal.write("resumed", clear_for_s=guard.settings.recover_for_s,
                                    reading=reading.to_json())  # fmt: skip
            elapsed = self._clock() - started
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, guard.settings.interval_s - elapsed)):
                    await stop.wait()

    def _why_not(self) -> str:
        """Why no action may start now ("" when one may)."""
        if self.paused_by:
            return f"paused by {self.paused_by}"
        if self._guard is None:
            return ""
        guard = self._guard[0]
        if guard.halted:
            return "halted: " + "; ".join(guard.reasons)
        if self._watching is None or self._watching.done():
            return "halted: the guard stopped reading"
        if self._read_at is None or self._clock() - self._read_at > self.config.fresh_s:
            return "halted: no fresh reading from the guard"
        return ""

    async def _maybe_act(self, schedule: Schedule) -> None:
        config = self.config
        why = self._why_not()
        if why:
            self._journal.write("skipped", why=why)
            return
        if not config.window.open_at(self._wall()):
            self._journal.write("skipped", why=f"outside the window {config.window.describe()}")
            return
        if len(self._active) >= config.max_at_once:
            self._journal.write("skipped", why=f"{len(self._active)} actions already running")
            return
        try:
            healthy = dict(await self._health())
        except Exception as error:  # noqa: BLE001 - no health, no action: said
            self._journal.write("skipped", why=f"the services' health is unknown: {error!r}")
            return
        why = self._why_not()  # while health was read
        if why:
            self._journal.write("skipped", why=why)
            return
        held = set(self._victims.values())
        free = {name: ok and name not in held for name, ok in healthy.items()}
        choice = schedule.choose(config.opted_in, free, config.menu, takes=self._takes)
        if choice is None:
            self._journal.write("skipped", why="no opted-in service is healthy and free",
                                healthy=healthy, held=sorted(held))  # fmt: skip
            return
        self._count += 1
        number = self._count
        self._victims[number] = choice.victim
        task = asyncio.create_task(self._act(number, choice))
        self._active[number] = task

        def done(_: object) -> None:
            self._active.pop(number, None)
            self._victims.pop(number, None)

        task.add_done_callback(done)

    async def _act(self, number: int, choice: Choice) -> None:
        item = choice.fault
        name = f"{self.config.prefix}{number}-{item.kind}-{choice.victim}"
        step = Step(name, fault_of(choice.victim, item), 0.0, item.duration_s)
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
        disarm: Disarm | None = None
        interrupted = False
        try:
            if item.kind in HELD_KINDS and self._arm_expiry is not None:
                # armed first: a monkey killed the moment its pause lands leaves it ended too
                arming = asyncio.ensure_future(
                    self._arm_expiry(choice.victim, ttl + EXPIRY_SLACK_S)
                )
                try:
                    disarm = await asyncio.shield(arming)
                except asyncio.CancelledError:  # let it land, so that it is disarmed below
                    await asyncio.wait({arming}, timeout=self.config.rollback_timeout_s)
                    if arming.done() and not arming.cancelled() and not arming.exception():
                        disarm = arming.result()
                    raise
            since = self._wall()  # as the runner's: a restart's outage is in its inject
            inject = asyncio.ensure_future(driver.inject(step, injection, ttl=ttl))
            try:
                await asyncio.shield(inject)
            except asyncio.CancelledError:
                interrupted = True  # let it land, then roll it back
                await asyncio.wait({inject}, timeout=self.config.rollback_timeout_s)
            if interrupted:
                raise asyncio.CancelledError
            await driver.verify(step, injection)
            self._journal.write("injected", action=number, verification=injection.verification,
                                ttl_s=ttl, expiry=disarm is not None)  # fmt: skip
            await asyncio.sleep(item.duration_s)
            await self._confirm(number, step, driver, injection, since)
        except asyncio.CancelledError:
            interrupted = True
            self._journal.write("interrupted", action=number)
        except Exception as exc:  # noqa: BLE001 - said in the journal; the rollback runs
            self._journal.write("failed", action=number, why=str(exc) or repr(exc))
        finally:
            rolled_back, cancelled = await self._roll_back(number, step, driver, injection)
            if disarm is not None and rolled_back:  # else it ends the pause at the TTL
                cancelled = await self._disarm(number, disarm) or cancelled
        if interrupted or cancelled:
            raise asyncio.CancelledError

    async def _disarm(self, number: int, disarm: Disarm) -> bool:
        """Cancel an action's expiry, shielded like a rollback: whether a cancellation
        arrived meanwhile. One that cannot be cancelled is said in the journal (it
        ends, at its TTL, a pause already ended)."""
        future = asyncio.ensure_future(disarm())
        cancelled = False
        while not future.done():
            try:
                await asyncio.wait({future}, timeout=self.config.rollback_timeout_s)
            except asyncio.CancelledError:
                cancelled = True
            else:
                break
        error = "it did not end in time" if not future.done() else (
            "it was cancelled" if future.cancelled() else future.exception()
        )  # fmt: skip
        if error:
            self._journal.write("expiry_left", action=number, why=str(error) or repr(error))
        return cancelled

    async def _confirm(self, number: int, step: Step, driver: FaultDriver, injection: Injection,
                       since: float) -> None:  # fmt: skip
        """The action's evidence, as `chaosbed run` asks it of a fault (with a reader)."""
        if self._reader is None:
            return
        try:
            await driver.confirm_effect(step, injection, self._reader, since)
        except FaultError as error:
            self._journal.write("no_effect", action=number, why=str(error))
        except Exception as error:  # noqa: BLE001 - evidence that could not be read is none
            self._journal.write("no_effect", action=number, why=f"unreadable: {error!r}")
        else:
            self._journal.write("effect", action=number, how=injection.effect)

    async def _roll_back(
        self, number: int, step: Step, driver: FaultDriver, injection: Injection
    ) -> tuple[bool, bool]:
        """Roll one action back, shielded from any cancellation: (whether it was rolled
        back, whether a cancellation arrived meanwhile)."""
        rollback = asyncio.ensure_future(driver.rollback(step, injection))
        cancelled = False
        deadline = self._clock() + self.config.rollback_timeout_s
        while not rollback.done() and self._clock() < deadline:
            try:
                await asyncio.wait({rollback}, timeout=max(0.0, deadline - self._clock()))
            except asyncio.CancelledError:
                cancelled = True
        error: Any = None
        if not rollback.done():
            error = f"it did not end within {self.config.rollback_timeout_s:g}s"
        elif rollback.cancelled():
            error = "it was cancelled"
        elif rollback.exception() is not None:
            error = repr(rollback.exception())
        if error is None:
            self._journal.write("rolled_back", action=number, how=injection.rollback)
            return True, cancelled
        self._journal.write("rollback_failed", action=number, why=error)
        return False, cancelled

    async def _roll_back_all(self) -> None:
        tasks = list(self._active.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
