"""The open-loop load generator: Poisson arrivals, each sent at its scheduled time.

Arrivals follow the schedule whatever the services do: a slow answer never
delays the next send (no coordinated omission). Each request's latency and
timeout count from its scheduled time. At most `max_in_flight` requests
await answers; an arrival beyond that is recorded as `client_overloaded`.

    generator = LoadGenerator(config)
    task = asyncio.create_task(generator.run())
    ...
    generator.stop()            # optional: end early, cancelling what is in flight
    results = await task        # LoadResults for the journal
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiohttp

from chaos.load.client import send
from chaos.load.config import LoadConfig
from chaos.load.journeys import JourneyPlanner, PlannedRequest
from chaos.load.metrics import LoadMetrics
from chaos.load.outcome import Sample
from chaos.load.results import LoadResults, Recorder
from chaos.load.schedule import poisson_arrivals

__all__ = ["LoadGenerator", "Observer", "Progress"]

Observer = Callable[[Sample], None]


@dataclass(frozen=True)
class Progress:
    """A live view of a run, for a progress line."""

    elapsed: float
    arrivals: int
    sent: int
    in_flight: int
    completed: int
    good: int
    overloaded: int
    late: int


class LoadGenerator:
    def __init__(
        self,
        config: LoadConfig,
        *,
        rng: random.Random | None = None,
        metrics: LoadMetrics | None = None,
        observers: Sequence[Observer] = (),
    ) -> None:
        """`rng` (default: seeded from the spec's `seed`) seeds two streams: one
        for the arrival schedule, one for journeys, members and titles, so the
        mix does not move the arrivals. `metrics` and `observers` get every sample."""
        self.config = config
        rng = random.Random(config.spec.seed) if rng is None else rng
        self._schedule_rng = random.Random(rng.getrandbits(64))
        self._journey_rng = random.Random(rng.getrandbits(64))
        self.metrics = metrics
        self._observers = list(observers)
        self._in_flight: set[asyncio.Task[Sample]] = set()
        self._stop_requested = False
        self._stopped: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._recorder: Recorder | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrivals = self._sent = self._late = 0
        self._max_lag = 0.0

    def stop(self) -> None:
        """End the run now: no more arrivals; requests in flight are cancelled."""
        self._stop_requested = True
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(None)

    def progress(self) -> Progress:
        recorder, loop = self._recorder, self._loop
        elapsed = 0.0 if recorder is None or loop is None else loop.time() - recorder.start
        return Progress(
            elapsed=min(elapsed, self.config.duration),
            arrivals=self._arrivals,
            sent=self._sent,
            in_flight=len(self._in_flight),
            completed=0 if recorder is None else recorder.completed,
            good=0 if recorder is None else recorder.good,
            overloaded=self._arrivals - self._sent,
            late=self._late,
        )

    async def run(self) -> LoadResults:
        """Drive the whole run (or until `stop()`), then return its results."""
        if self._loop is not None:
            raise RuntimeError("a LoadGenerator runs once; make a new one")
        loop = self._loop = asyncio.get_running_loop()
        self._stopped = loop.create_future()
        if self._stop_requested:
            self._stopped.set_result(None)
        connector = aiohttp.TCPConnector(
            limit=self.config.max_in_flight,
            limit_per_host=0,
            force_close=self.config.connection_per_request,
        )
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar()
        ) as session:
            recorder = self._recorder = Recorder(loop.time(), self.config.spec.timeout)
            cancelled = 0
            try:
                sending_ended = await self._schedule(session, recorder)
                await self._drain()
            finally:
                cancelled = await self._cancel_in_flight()
        return self._results(recorder, sending_ended, cancelled)

    async def _schedule(self, session: aiohttp.ClientSession, recorder: Recorder) -> float:
        """Send every arrival due before the end; return when sending ended (loop clock)."""
        assert self._loop is not None and self._stopped is not None
        loop, config = self._loop, self.config
        planner = JourneyPlanner(config, self._journey_rng)
        end = recorder.start + config.duration
        for offset in poisson_arrivals(config.spec.rate, self._schedule_rng):
            due = recorder.start + offset
            if due >= end:
                await asyncio.wait((self._stopped,), timeout=max(0.0, end - loop.time()))
                return min(loop.time(), end)
            if due > loop.time():
                await asyncio.wait((self._stopped,), timeout=due - loop.time())
            if self._stopped.done():
                return loop.time()
            self._dispatch(session, planner.next(), due)
        raise AssertionError("unreachable: the schedule is unbounded")

    def _dispatch(
        self, session: aiohttp.ClientSession, planned: PlannedRequest, due: float
    ) -> None:
        assert self._loop is not None
        loop = self._loop
        self._arrivals += 1
        lag = loop.time() - due
        self._max_lag = max(self._max_lag, lag)
        if lag > self.config.late_after:
            self._late += 1
        if len(self._in_flight) >= self.config.max_in_flight:
            overloaded = Sample(
                planned.journey, planned.service, planned.cohort, "client_overloaded",
                None, due, 0.0, lag, planned.member,
            )  # fmt: skip
            self._observe(overloaded)
            return
        self._sent += 1
        task = loop.create_task(send(session, planned, due, self.config.spec.timeout, loop.time))
        self._in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Sample]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled():
            self._observe(task.result())
        if not self._in_flight and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _observe(self, sample: Sample) -> None:
        assert self._recorder is not None
        self._recorder.record(sample)
        if self.metrics is not None:
            self.metrics.observe(sample)
        for observer in self._observers:
            observer(sample)

    async def _drain(self) -> None:
        """Wait for the answers still due (each is bounded by the timeout), unless stopped."""
        assert self._loop is not None and self._stopped is not None
        if not self._in_flight or self._stopped.done():
            return
        self._drained = self._loop.create_future()
        await asyncio.wait((self._drained, self._stopped), return_when=asyncio.FIRST_COMPLETED)

    async def _cancel_in_flight(self) -> int:
        tasks = list(self._in_flight)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return sum(task.cancelled() for task in tasks)

    def _results(self, recorder: Recorder, sending_ended: float, cancelled: int) -> LoadResults:
        duration = max(1e-9, sending_ended - recorder.start)
        return LoadResults(
            target_rate=self.config.spec.rate,
            duration_s=round(duration, 3),
            arrivals=self._arrivals,
            sent=self._sent,
            achieved_rate=round(self._sent / duration, 3),
            late=self._late,
            late_after_ms=self.config.late_after * 1000,
            max_lag_ms=round(self._max_lag * 1000, 3),
            cancelled=cancelled,
            stopped_early=self._stop_requested,
            journeys=recorder.journeys(),
            seconds=recorder.seconds(),
        )
