"""Latency quantiles: exact from raw samples, or within 1% from a bounded histogram."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["LogHistogram", "nearest_rank"]


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The q-quantile (0 < q <= 1) of sorted values by the nearest-rank method."""
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


class LogHistogram:
    """Counts of values in log-spaced buckets 1% wide, from 0.1 ms up.

    Memory stays bounded (about 1,400 buckets up to a minute) however many
    values are added, and a quantile is the upper edge of its bucket: at most
    1% above the true value.
    """

    FLOOR = 1e-4
    GROWTH = 1.01

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self.count = 0

    def add(self, value: float) -> None:
        index = 0
        if value > self.FLOOR:
            index = math.ceil(math.log(value / self.FLOOR) / math.log(self.GROWTH))
        self._counts[index] = self._counts.get(index, 0) + 1
        self.count += 1

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0 < q <= 1), None when empty."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index in sorted(self._counts):
            seen += self._counts[index]
            if seen >= rank:
                return float(self.FLOOR * self.GROWTH**index)
        raise AssertionError("unreachable: ranks never exceed the count")
