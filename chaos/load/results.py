"""The record a load run leaves for the journal, kept in bounded memory.

Samples are grouped by the second they were *scheduled* in (from the start
of the run), per journey and cohort. A second's raw latencies are kept only
while answers for it can still arrive (the client timeout plus a margin);
then it is reduced to count, good, p50 and p99, and the samples are dropped.
Totals per journey keep a 1%-resolution histogram instead of samples.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chaos.experiment.model import JOURNEY_SERVICE, JOURNEYS
from chaos.load.outcome import OUTCOMES, Sample
from chaos.load.quantiles import LogHistogram, nearest_rank

__all__ = ["JourneyTotals", "LoadResults", "Recorder", "SecondStats"]


@dataclass(frozen=True)
class SecondStats:
    """Arrivals scheduled in one second of the run, for one journey and cohort."""

    second: int
    journey: str
    cohort: str
    count: int
    good: int
    p50_ms: float | None  # None when nothing in that second was sent
    p99_ms: float | None


@dataclass(frozen=True)
class JourneyTotals:
    journey: str
    service: str
    arrivals: int
    good: int
    outcomes: Mapping[str, int]
    p50_ms: float | None
    p99_ms: float | None

    @property
    def ok_percent(self) -> float | None:
        return None if self.arrivals == 0 else 100.0 * self.good / self.arrivals


@dataclass(frozen=True)
class LoadResults:
    target_rate: float
    duration_s: float
    """How long arrivals were scheduled: the configured duration, or less if stopped early."""
    arrivals: int
    sent: int
    """Arrivals actually sent (arrivals minus `client_overloaded`)."""
    achieved_rate: float
    """sent / duration_s."""
    late: int
    """Arrivals sent more than `late_after_ms` after their scheduled time."""
    late_after_ms: float
    max_lag_ms: float
    cancelled: int
    """Requests still in flight when the run was stopped; they have no outcome."""
    stopped_early: bool
    journeys: tuple[JourneyTotals, ...]
    seconds: tuple[SecondStats, ...]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class _Open:
    count: int = 0
    good: int = 0
    latencies: list[float] = field(default_factory=list)


@dataclass
class _Totals:
    arrivals: int = 0
    good: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    latency: LogHistogram = field(default_factory=LogHistogram)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


class Recorder:
    """Collects Samples of a run that started at `start` (loop clock)."""

    def __init__(self, start: float, timeout: float) -> None:
        self.start = start
        self._horizon = math.ceil(timeout) + 2  # seconds an answer can still arrive in
        self._open: dict[tuple[int, str, str], _Open] = {}
        self._closed: dict[tuple[int, str, str], SecondStats] = {}
        self._newest = 0
        self._totals = {journey: _Totals() for journey in JOURNEYS}
        self.completed = 0
        self.good = 0

    def record(self, sample: Sample) -> None:
        second = max(0, math.floor(sample.scheduled_at - self.start))
        key = (second, sample.journey, sample.cohort)
        closed = self._closed.get(key)
        if closed is not None:  # an answer later than the horizon: counts, no latency
            self._closed[key] = dataclasses.replace(
                closed, count=closed.count + 1, good=closed.good + sample.good
            )
        else:
            bucket = self._open.setdefault(key, _Open())
            bucket.count += 1
            bucket.good += sample.good
            if sample.sent:
                bucket.latencies.append(sample.latency)
        totals = self._totals[sample.journey]
        totals.arrivals += 1
        totals.good += sample.good
        totals.outcomes[sample.outcome] += 1
        if sample.sent:
            totals.latency.add(sample.latency)
        self.completed += 1
        self.good += sample.good
        if second > self._newest:
            self._newest = second
            self._close(before=second - self._horizon)

    def _close(self, before: int | None = None) -> None:
        for key in [k for k in self._open if before is None or k[0] < before]:
            bucket = self._open.pop(key)
            ordered = sorted(bucket.latencies)
            p50 = nearest_rank(ordered, 0.50) if ordered else None
            p99 = nearest_rank(ordered, 0.99) if ordered else None
            self._closed[key] = SecondStats(*key, bucket.count, bucket.good, _ms(p50), _ms(p99))

    def seconds(self) -> tuple[SecondStats, ...]:
        """Every second seen so far, closing the open ones (call at the end of a run)."""
        self._close()
        return tuple(self._closed[key] for key in sorted(self._closed))

    def journeys(self) -> tuple[JourneyTotals, ...]:
        return tuple(
            JourneyTotals(
                journey=journey,
                service=JOURNEY_SERVICE[journey],
                arrivals=totals.arrivals,
                good=totals.good,
                outcomes=dict(totals.outcomes),
                p50_ms=_ms(totals.latency.quantile(0.50)),
                p99_ms=_ms(totals.latency.quantile(0.99)),
            )
            for journey, totals in self._totals.items()
        )
