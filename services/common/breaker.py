"""The circuit breaker of one dependency: pybreaker holds the state, we gate it.

pybreaker is the state holder: its storage keeps the state and the count of
consecutive failures, its ``open()``, ``half_open()`` and ``close()`` make
every transition, and a `CircuitBreakerListener` publishes each one to the
metrics. It is never used through ``calling()``, for three reasons that
matter to an asyncio client:

- its half-open state lets every concurrent call through (100 callers after
  the reset timeout would all hit a recovering dependency);
- ``calling()`` counts any exception, ``CancelledError`` included, as the
  dependency's failure;
- it counts only consecutive failures, so a dependency failing two calls in
  three never trips it.

So the client asks `CircuitBreaker.admit` for a permit before each try and
reports the try's verdict with `success`, `failure` or `release` (neutral).

When it opens, from closed:

- ``fail_max`` consecutive failures, or
- a failure rate of at least ``failure_rate`` over the last ``window_s``
  seconds, once the window holds at least ``min_calls`` calls. The rate is
  judged when a failure is recorded.

What counts as the dependency's failure (the client decides, see
dependency.py): connection errors, timeouts of the dependency's own per-try
timeout, 5xx, 429 Too Many Requests (the dependency is overloaded: backing
off is the point of a breaker) and an answer over ``max_body_bytes``. Other
4xx are the caller's mistake and count as successes: the dependency answered.
So does a 5xx that names an upstream failure: the dependency answered, and
the failure is its dependency's (upstream_failure.py).
Neutral, neither success nor failure: the caller cancelled, the caller's own
deadline cut the try short, or our own code raised.

Half-open admits ``half_open_calls`` trial calls (default 1) and short-circuits
the rest. A failed trial re-opens the breaker; once every trial has succeeded
it closes. A neutral trial gives its slot back. Each state change starts a new
episode, and a permit counts only in the episode that issued it: a call let
through while closed that answers late cannot close (or re-open) the breaker
behind a trial's verdict.

One breaker belongs to one event loop; it takes no locks of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pybreaker

from . import mutants
from .errors import CircuitOpen
from .metrics import Metrics

log = logging.getLogger(__name__)
Clock = Callable[[], float]
CLOSED, OPEN, HALF_OPEN = pybreaker.STATE_CLOSED, pybreaker.STATE_OPEN, pybreaker.STATE_HALF_OPEN


class BreakerMetricsListener(pybreaker.CircuitBreakerListener):
    """Publishes every state change as chaosbed_circuit_breaker_state and a log line."""

    def __init__(self, metrics: Metrics, dependency: str) -> None:
        self.metrics = metrics
        self.dependency = dependency

    def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
        old = getattr(old_state, "name", None)
        self.metrics.set_breaker_state(self.dependency, new_state.name)
        log.warning(
            "circuit breaker %s -> %s changed %s -> %s",
            self.metrics.service,
            self.dependency,
            old,
            new_state.name,
        )


class FailureWindow:
    """Calls and failures over the last `window_s` seconds, kept in 10 buckets."""

    BUCKETS = 10

    def __init__(self, window_s: float, clock: Clock) -> None:
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self._width = window_s / self.BUCKETS
        self._clock = clock
        self._calls = [0] * self.BUCKETS
        self._failures = [0] * self.BUCKETS
        self._latest = int(clock() / self._width)  # absolute number of the newest bucket
        self.calls = 0
        self.failures = 0

    def record(self, failed: bool) -> None:
        now = int(self._clock() / self._width)
        if now != self._latest:
            self._expire(now)
        slot = now % self.BUCKETS
        self._calls[slot] += 1
        self.calls += 1
        if failed:
            self._failures[slot] += 1
            self.failures += 1

    def _expire(self, now: int) -> None:
        for bucket in range(self._latest + 1, min(now, self._latest + self.BUCKETS) + 1):
            slot = bucket % self.BUCKETS
            self.calls -= self._calls[slot]
            self.failures -= self._failures[slot]
            self._calls[slot] = self._failures[slot] = 0
        self._latest = now

    def clear(self) -> None:
        self._calls = [0] * self.BUCKETS
        self._failures = [0] * self.BUCKETS
        self.calls = self.failures = 0


class CircuitBreaker:
    """One dependency's breaker; see the module docstring for the rules."""

    def __init__(
        self,
        dependency: str,
        *,
        fail_max: int = 5,
        failure_rate: float = 0.5,
        min_calls: int = 10,
        window_s: float = 10.0,
        reset_s: float = 5.0,
        half_open_calls: int = 1,
        listeners: tuple[pybreaker.CircuitBreakerListener, ...] = (),
        name: str | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        if fail_max < 1 or min_calls < 1 or half_open_calls < 1:
            raise ValueError("fail_max, min_calls and half_open_calls must be at least 1")
        if not 0 < failure_rate <= 1:
            raise ValueError("failure_rate must be in (0, 1]")
        self.dependency = dependency
        self.fail_max = fail_max
        self.failure_rate = failure_rate
        self.min_calls = min_calls
        self.reset_s = reset_s
        self.half_open_calls = half_open_calls
        self._clock = clock
        self._storage = pybreaker.CircuitMemoryStorage(CLOSED)
        self.pybreaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_s,
            listeners=list(listeners),
            state_storage=self._storage,
            name=name or dependency,
            throw_new_error_on_trip=False,
        )
        self.window = FailureWindow(window_s, clock)
        self._episode = 0
        self._opened_at = 0.0
        self._trials = 0  # trial calls admitted (and not given back) in this half-open
        self._trials_ok = 0

    @property
    def current_state(self) -> str:
        """The state as pybreaker stores it: "closed", "open" or "half-open"."""
        return str(self._storage.state)

    @property
    def fail_counter(self) -> int:
        """Consecutive failures counted while closed."""
        return int(self._storage.counter)

    def seconds_until_half_open(self) -> float:
        """While open: how long until a trial call is let through; else 0."""
        if self._storage.state != OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.reset_s - self._clock())

    def admit(self) -> int:
        """A permit for one try, or `CircuitOpen` when the call must not be sent."""
        state = self._storage.state
        if state == CLOSED:
            return self._episode
        if state == OPEN:
            if self._clock() < self._opened_at + self.reset_s:
                raise CircuitOpen(self.dependency, "circuit breaker is open")
            self._transition(HALF_OPEN)
        if self._trials >= self.half_open_calls:
            raise CircuitOpen(self.dependency, "circuit breaker is half-open: trial call in flight")
        self._trials += 1
        return self._episode

    def success(self, permit: int) -> None:
        if permit != self._episode:
            return  # issued before the last state change: too late to count
        if self._storage.state == CLOSED:
            if self._storage.counter:
                self._storage.reset_counter()
            self.window.record(False)
            return
        self._trials_ok += 1
        if self._trials_ok >= self.half_open_calls:
            self._transition(CLOSED)

    def failure(self, permit: int) -> None:
        if permit != self._episode:
            return
        if self._storage.state != CLOSED:  # a failed trial
            self._transition(OPEN)
            return
        self._storage.increment_counter()
        self.window.record(True)
        if mutants.active("breaker-never-opens"):
            return
        if self._storage.counter >= self.fail_max or self._rate_exceeded():
            self._transition(OPEN)

    def release(self, permit: int) -> None:
        """A neutral end of a try: a half-open trial gives its slot back."""
        if permit == self._episode and self._storage.state == HALF_OPEN:
            self._trials -= 1

    def _rate_exceeded(self) -> bool:
        calls = self.window.calls
        return calls >= self.min_calls and self.window.failures >= self.failure_rate * calls

    def _transition(self, state: str) -> None:
        self._episode += 1
        self._trials = self._trials_ok = 0
        if state == OPEN:
            self._opened_at = self._clock()
            self.pybreaker.open()
        elif state == HALF_OPEN:
            self.pybreaker.half_open()
        else:
            self.window.clear()
            self.pybreaker.close()  # resets the consecutive-failure count too


def make_breaker(
    metrics: Metrics,
    dependency: str,
    *,
    fail_max: int,
    failure_rate: float,
    min_calls: int,
    window_s: float,
    reset_s: float,
    half_open_calls: int,
    clock: Clock = time.monotonic,
) -> CircuitBreaker:
    """One breaker per dependency, its state changes published to `metrics`.

    The failure that trips it is raised as itself, so callers see what
    actually failed; later calls raise `CircuitOpen` until the reset timeout
    lets a trial through (half-open).
    """
    return CircuitBreaker(
        dependency,
        fail_max=fail_max,
        failure_rate=failure_rate,
        min_calls=min_calls,
        window_s=window_s,
        reset_s=reset_s,
        half_open_calls=half_open_calls,
        listeners=(BreakerMetricsListener(metrics, dependency),),
        name=f"{metrics.service}->{dependency}",
        clock=clock,
    )
