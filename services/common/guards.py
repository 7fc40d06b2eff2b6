"""Bulkhead and retry budget: two small guards an outgoing call passes."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from types import TracebackType

from . import mutants

Clock = Callable[[], float]


class Bulkhead:
    """Bounded concurrency that fails fast: a call over the limit is refused at once."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("bulkhead size must be at least 1")
        self.size = size
        self.in_flight = 0

    def try_enter(self) -> bool:
        if self.in_flight >= self.size and not mutants.active("no-bulkhead"):
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight -= 1

    def __enter__(self) -> Bulkhead:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.leave()


class RetryBudget:
    """Caps retries at `ratio` of the requests seen in a sliding window.

    With a floor of `min_per_s` retries per second, so a quiet service can
    still retry, while a failing dependency called by a busy one gets at most
    about 10% extra load from retries instead of `attempts` times the load.
    """

    def __init__(
        self,
        ratio: float,
        min_per_s: float,
        window_s: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self.ratio = ratio
        self.min_per_s = min_per_s
        self.window_s = window_s
        self._clock = clock
        self._requests: deque[float] = deque()
        self._retries: deque[float] = deque()

    def _trim(self, now: float) -> None:
        horizon = now - self.window_s
        for q in (self._requests, self._retries):
            while q and q[0] < horizon:
                q.popleft()

    def record_request(self) -> None:
        now = self._clock()
        self._trim(now)
        self._requests.append(now)

    def allowed(self) -> float:
        """How many retries the window allows in all."""
        return max(self.min_per_s * self.window_s, self.ratio * len(self._requests))

    def try_spend(self) -> bool:
        """Spend one retry if the budget has one left."""
        now = self._clock()
        self._trim(now)
        if len(self._retries) + 1 > self.allowed() and not mutants.active("no-retry-budget"):
            return False
        self._retries.append(now)
        return True
