"""A bounded history of scraped samples: per series, (timestamp, value) in time order.

A series is a metric name and its labels (with `job` and `instance` added,
as Prometheus adds them). The history keeps a whole run: its default
retention, `RUN_RETENTION_S`, is the longest run the loader accepts (warmup,
hold, method, recovery and an SLO window, from `chaos.experiment.limits`),
so `max_over` and `increase` since the start of a method an hour long still
see its first minute. Samples older than `retention` seconds are dropped at
each `add`, and each series keeps at most `max_samples`; a series left with
no samples is forgotten. A target that could not be scraped adds no samples:
its series simply stop, and age out.

Memory stays small over an hour of 1 s scrapes: every scrape time is stored
once, and each series stores runs of equal consecutive values (most series,
idle routes' buckets, gauges at 0, never change), so a series costs memory
only when its value moves. The samples read back are exactly those added.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping

from chaos.experiment import limits

from .query import Selector

__all__ = ["RUN_RETENTION_S", "SampleHistory", "Series", "max_samples_for"]

Labels = tuple[tuple[str, str], ...]
Sample = tuple[str, Mapping[str, str], float]  # metric, labels, value

# The longest run the loader accepts, plus one SLO window of slack for the reads after it.
RUN_RETENTION_S = (
    limits.WARMUP[1]
    + limits.HOLD[1]
    + limits.MAX_METHOD
    + limits.RECOVERED_WITHIN[1]
    + limits.WINDOW[1]
)


def max_samples_for(retention: float, interval: float) -> int:
    """Samples a series needs to cover `retention` seconds scraped every `interval`."""
    return max(2, math.ceil(retention / interval) + 2)


class _Timeline:
    """Every scrape time still retained; index `base + i` is `times[i]`."""

    __slots__ = ("base", "times")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.base = 0

    def span(self, start: float, end: float) -> tuple[int, int]:
        """Absolute indices [first, last] of the scrape times in [start, end]."""
        first = bisect_left(self.times, start)
        last = bisect_right(self.times, end) - 1
        return self.base + first, self.base + last


class Series:
    """One series' samples, as runs [start, end] of scrape indices holding one value."""

    __slots__ = ("_ends", "_head", "_starts", "_timeline", "_values", "count", "labels", "metric")

    def __init__(self, metric: str, labels: Mapping[str, str], timeline: _Timeline) -> None:
        self.metric = metric
        self.labels = dict(labels)
        self._timeline = timeline
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._values: list[float] = []
        self._head = 0  # runs before it are dropped
        self.count = 0  # samples held

    def record(self, index: int, value: float) -> bool:
        """Add the sample of scrape `index`; False if it already has one (the first stands)."""
        live = len(self._ends) > self._head
        if live and self._ends[-1] == index:
            return False
        if live and self._ends[-1] == index - 1 and self._values[-1] == value:
            self._ends[-1] = index
        else:
            self._starts.append(index)
            self._ends.append(index)
            self._values.append(value)
        self.count += 1
        return True

    def drop_before(self, index: int) -> None:
        """Forget every sample at a scrape index below `index`."""
        head, starts, ends = self._head, self._starts, self._ends
        while head < len(ends) and ends[head] < index:
            self.count -= ends[head] - starts[head] + 1
            head += 1
        if head < len(ends) and starts[head] < index:
            self.count -= index - starts[head]
            starts[head] = index
        if head > 64 and head * 2 > len(ends):
            del starts[:head], ends[:head], self._values[:head]
            head = 0
        self._head = head

    def drop_oldest(self) -> None:
        self.drop_before(self._starts[self._head] + 1)

    def between(self, start: float, end: float) -> list[tuple[float, float]]:
        """The samples with timestamps in [start, end], in time order."""
        timeline = self._timeline
        first, last = timeline.span(start, end)
        found: list[tuple[float, float]] = []
        run = bisect_left(self._ends, first, self._head)
        while run < len(self._ends) and self._starts[run] <= last:
            value = self._values[run]
            for index in range(max(self._starts[run], first), min(self._ends[run], last) + 1):
                found.append((timeline.times[index - timeline.base], value))
            run += 1
        return found

    @property
    def samples(self) -> list[tuple[float, float]]:
        """Every retained sample, in time order."""
        return self.between(-math.inf, math.inf)


class SampleHistory:
    def __init__(
        self,
        retention: float = RUN_RETENTION_S,
        max_samples: int = max_samples_for(RUN_RETENTION_S, 1.0),
    ) -> None:
        if retention <= 0 or max_samples < 2:
            raise ValueError("retention must be positive and max_samples at least 2")
        self.retention = retention
        self.max_samples = max_samples
        self._timeline = _Timeline()
        self._series: dict[tuple[str, Labels], Series] = {}

    def add(self, timestamp: float, samples: Iterable[Sample]) -> None:
        """Record one scrape's samples, all taken at `timestamp` (later than any before)."""
        timeline = self._timeline
        index = timeline.base + len(timeline.times)
        timeline.times.append(timestamp)
        for metric, labels, value in samples:
            key = (metric, tuple(sorted(labels.items())))
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = Series(metric, labels, timeline)
            if series.record(index, value) and series.count > self.max_samples:
                series.drop_oldest()
        self.prune(timestamp)

    def prune(self, now: float) -> None:
        timeline = self._timeline
        expired = bisect_left(timeline.times, now - self.retention)
        if expired:
            del timeline.times[:expired]
            timeline.base += expired
        for key in list(self._series):
            series = self._series[key]
            series.drop_before(timeline.base)
            if not series.count:
                del self._series[key]

    def select(self, selector: Selector) -> Iterator[Series]:
        for series in self._series.values():
            if selector.matches(series.metric, series.labels):
                yield series

    def __len__(self) -> int:
        return len(self._series)
