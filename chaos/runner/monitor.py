"""Steady-state checks, about once a second: every SLO's value, whether it
holds, and whether an abort condition has been breached long enough.

The `Monitor` task reads every SLO (and samples every breaker) once per
`interval` from the load's start to the end of recovery; the runner's
phases wait on its checks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chaos.experiment.model import AbortCondition, Slo
from chaos.slo import SliReader

from .breakers import breaker_window, sample_breakers
from .journal import Journal

if TYPE_CHECKING:
    from .progress import Progress

__all__ = ["AbortTracker", "Check", "Monitor", "Reading", "read_slos"]


@dataclass(frozen=True)
class Reading:
    """One SLO at one check: met (`ok` True), breached (False) or no data (None).

    `error` says why a reading has no data when its backend raised.
    """

    slo: Slo
    value: float | None
    limit: float | None
    ok: bool | None
    error: str = ""


@dataclass(frozen=True)
class Check:
    """Every SLO read once, `t` seconds after the run started."""

    t: float
    readings: Mapping[str, Reading]

    @property
    def all_met(self) -> bool:
        return bool(self.readings) and all(r.ok is True for r in self.readings.values())


async def read_slos(
    reader: SliReader, slos: tuple[Slo, ...], baseline: Mapping[str, float | None]
) -> dict[str, Reading]:
    """Read every SLO once. A backend that raises is asked once more in the same
    check (one transient error is not a verdict); if it raises again, the
    reading has no data (never a crash, never met)."""
    values = await asyncio.gather(*(_value(reader, s) for s in slos), return_exceptions=True)
    readings: dict[str, Reading] = {}
    for slo, value in zip(slos, values, strict=True):
        base = baseline.get(slo.name)
        try:
            limit = slo.objective.limit(base)
        except ValueError:
            limit = None
        if isinstance(value, BaseException):
            readings[slo.name] = Reading(slo, None, limit, None, repr(value))
        elif value is None or limit is None:
            readings[slo.name] = Reading(slo, value, limit, None)
        else:
            readings[slo.name] = Reading(slo, value, limit, slo.objective.holds(value, base))
    return readings


async def _value(reader: SliReader, slo: Slo) -> float | None:
    try:
        return await reader.value(slo)
    except Exception:  # noqa: BLE001 - retried once; the second error is the reading's
        return await reader.value(slo)


class AbortTracker:
    """Says when an abort condition has held for its `for` duration.

    A condition is breached at a check when its SLO's value is below/above
    its bound; it fires once the breach has lasted `for` seconds across
    consecutive checks (at once when `for` is 0). A check without data
    neither starts nor ends a breach.
    """

    def __init__(self, conditions: tuple[AbortCondition, ...]) -> None:
        self._conditions = conditions
        self._since: dict[int, float] = {}

    def check(self, readings: Mapping[str, Reading], now: float) -> AbortCondition | None:
        for index, condition in enumerate(self._conditions):
            reading = readings.get(condition.slo)
            if reading is None or reading.value is None:
                continue
            if condition.breached(reading.value):
                started = self._since.setdefault(index, now)
                if now - started >= condition.for_:
                    return condition
            else:
                self._since.pop(index, None)
        return None


class Monitor:
    """Reads every SLO (and every breaker) once per `interval`: journals each check,
    keeps it in `checks`, fires an abort condition while `judged()` says the
    method is being judged, and wakes whoever waits in `next_readings`.

    A monitor that fails sets `failed` and `abort` (nobody may run a method
    nobody watches) and wakes the waiters, who then raise."""

    def __init__(
        self,
        slos: tuple[Slo, ...],
        abort_when: tuple[AbortCondition, ...],
        reader: SliReader,
        journal: Journal,
        progress: Progress,
        *,
        phase: Callable[[], str],
        baseline: Mapping[str, float | None],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._slos = slos
        self._tracker = AbortTracker(abort_when)
        self._reader = reader
        self._journal = journal
        self._progress = progress
        self._phase = phase
        self._baseline = baseline
        self._interval = interval
        self._clock = clock
        self._wall = wall
        self._tick = asyncio.Condition()
        self._latest: dict[str, Reading] = {}
        self.checks: list[Check] = []
        self.abort = asyncio.Event()
        self.abort_reason = ""
        self.failed = ""

    async def run(self, judged: Callable[[], bool]) -> None:
        try:
            await self._loop(judged)
        except Exception as exc:
            self.failed = f"the SLO monitor failed: {exc!r}"
            self._journal.event(self._phase(), "monitor_failed", detail=repr(exc))
            self.abort_reason = self.failed
            self.abort.set()
            async with self._tick:
                self._tick.notify_all()
            raise

    async def next_readings(self) -> dict[str, Reading]:
        """The readings of the next check."""
        async with self._tick:
            seen = len(self.checks)
            await self._tick.wait_for(lambda: len(self.checks) > seen or bool(self.failed))
            if self.failed:
                raise RuntimeError(self.failed)
            return dict(self._latest)

    async def _loop(self, judged: Callable[[], bool]) -> None:
        while True:
            started = self._clock()
            since = self._wall() - breaker_window(self._interval)
            readings, breakers = await asyncio.gather(
                read_slos(self._reader, self._slos, self._baseline),
                sample_breakers(self._reader, since),
            )
            now, phase = self._journal.now(), self._phase()
            for name, reading in readings.items():
                self._journal.sli(name, reading.value, reading.ok, phase)
            for edge, state in breakers.items():
                self._journal.breaker(edge, state)
            if judged():
                self._note_abort(readings, now, phase)
            self._progress.update(phase, now, readings)
            async with self._tick:
                self._latest = readings
                self.checks.append(Check(now, readings))
                self._tick.notify_all()
            await asyncio.sleep(max(0.0, self._interval - (self._clock() - started)))

    def trigger_abort(
        self, reason: str, *, phase: str | None = None, at: float | None = None
    ) -> None:
        """Abort the method: an abort condition fired (at a check's `phase` and time
        `at`), or the cohorts' comparison found a critical metric bad (now); the first
        reason stands."""
        if self.abort.is_set():
            return
        self.abort_reason = reason
        self._journal.event(phase or self._phase(), "abort", reason=reason)
        self._journal.timings["abort_t"] = self._journal.now() if at is None else at
        self.abort.set()

    def _note_abort(self, readings: Mapping[str, Reading], now: float, phase: str) -> None:
        fired = self._tracker.check(readings, now)
        if fired is None or self.abort.is_set():
            return
        bound = f"below {fired.below:g}" if fired.below is not None else f"above {fired.above:g}"
        value = readings[fired.slo].value
        reason = f"abort: SLO {fired.slo} {bound} for {fired.for_:g}s (now {value:g})"
        self.trigger_abort(reason, phase=phase, at=now)
