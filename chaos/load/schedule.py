"""When requests are sent: Poisson arrivals, as offsets from the start.

An open-loop schedule does not depend on how fast answers come back: the
gaps between arrivals are independent exponential draws with mean 1/rate.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

__all__ = ["poisson_arrivals"]


def poisson_arrivals(rate: float, rng: random.Random) -> Iterator[float]:
    """Arrival times in seconds from the start (increasing, unbounded), at `rate` per second."""
    if not rate > 0:
        raise ValueError(f"rate must be positive, not {rate}")
    at = 0.0
    while True:
        at += rng.expovariate(rate)
        yield at
