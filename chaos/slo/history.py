"""A bounded history of scraped samples: per series, (timestamp, value) in time order.

A series is a metric name and its labels (with `job` and `instance` added,
as Prometheus adds them). Samples older than `retention` seconds are dropped
at each `add`, and each series keeps at most `max_samples`; a series left
with no samples is forgotten. A target that could not be scraped adds no
samples: its series simply stop, and age out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping

from .query import Selector

__all__ = ["SampleHistory", "Series"]

Labels = tuple[tuple[str, str], ...]
Sample = tuple[str, Mapping[str, str], float]  # metric, labels, value


class Series:
    __slots__ = ("labels", "metric", "samples")

    def __init__(self, metric: str, labels: Mapping[str, str], max_samples: int) -> None:
        self.metric = metric
        self.labels = dict(labels)
        self.samples: deque[tuple[float, float]] = deque(maxlen=max_samples)


class SampleHistory:
    def __init__(self, retention: float = 900.0, max_samples: int = 2000) -> None:
        if retention <= 0 or max_samples < 2:
            raise ValueError("retention must be positive and max_samples at least 2")
        self.retention = retention
        self.max_samples = max_samples
        self._series: dict[tuple[str, Labels], Series] = {}

    def add(self, timestamp: float, samples: Iterable[Sample]) -> None:
        """Record one scrape's samples, all taken at `timestamp` (later than any before)."""
        for metric, labels, value in samples:
            key = (metric, tuple(sorted(labels.items())))
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = Series(metric, labels, self.max_samples)
            series.samples.append((timestamp, value))
        self.prune(timestamp)

    def prune(self, now: float) -> None:
        oldest = now - self.retention
        for key in list(self._series):
            samples = self._series[key].samples
            while samples and samples[0][0] < oldest:
                samples.popleft()
            if not samples:
                del self._series[key]

    def select(self, selector: Selector) -> Iterator[Series]:
        for series in self._series.values():
            if selector.matches(series.metric, series.labels):
                yield series

    def __len__(self) -> int:
        return len(self._series)
