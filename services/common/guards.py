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
    """Caps retries at `ratio` of the requests seen in a sliding window, with a floor.

    The ratio: the retries of the last `window_s` are at most `ratio` of its
    requests, so a failing dependency called by a busy service gets about 10%
    extra load from retries instead of `attempts` times the load.

    The floor, so that a quiet service can still retry: a token bucket that
    accrues `min_per_s` tokens a second and holds at most one second's worth
    (``max(1, min_per_s)``, full at start). A retry the ratio refuses may
    spend a token; a retry the ratio allows spends one too when there is one,
    so the floor adds nothing while the ratio allows more. "2 retries/s" is
    2 at once and then one every half second, never 20 in a quarter second.
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
        self.capacity = max(1.0, min_per_s) if min_per_s > 0 else 0.0
        self._clock = clock
        self._requests: deque[float] = deque()
        self._retries: deque[float] = deque()
        self._tokens = self.capacity
        self._filled_at = clock()

    def _trim(self, now: float) -> None:
        horizon = now - self.window_s
        for q in (self._requests, self._retries):
            while q and q[0] < horizon:
                q.popleft()

    def record_request(self) -> None:
        now = self._clock()
        self._trim(now)
        self._requests.append(now)

    def floor_tokens(self) -> float:
        """The floor's tokens now (after accruing since the last look)."""
        now = self._clock()
        accrued = (now - self._filled_at) * self.min_per_s
        self._tokens = min(self.capacity, self._tokens + accrued)
        self._filled_at = now
        return self._tokens

    def try_spend(self) -> bool:
        """Spend one retry if the ratio or the floor has one left."""
        now = self._clock()
        self._trim(now)
        by_ratio = len(self._retries) + 1 <= self.ratio * len(self._requests)
        has_token = self.floor_tokens() >= 1
        if not (by_ratio or has_token or mutants.active("no-retry-budget")):
            return False
        if has_token:
            self._tokens -= 1
        self._retries.append(now)
        return True
