"""The scrape backend: the runner reads every target's /metrics itself.

Every `interval` seconds all targets are scraped at once; each sample is
stored with the time its scrape started (as Prometheus stamps it) in a
bounded `SampleHistory`, plus `up{job, instance}` = 1 or 0. A target that is
down, slow or answers garbage is a failed scrape: `up` is 0, its series get
no new samples, and the run goes on. SLIs are then computed from the history
with the same functions Prometheus applies (`promql_functions`).

Raw PromQL SLOs need a real Prometheus: `check` refuses them at plan time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from chaos.experiment.limits import SCRAPE_INTERVALS
from chaos.experiment.model import Slo

from .errors import UnsupportedIndicator
from .history import RUN_RETENTION_S, SampleHistory, max_samples_for
from .promql_functions import histogram_quantile, increase
from .query import QuantileQuery, Query, RatioQuery, RawQuery, Selector, plan

__all__ = ["ScrapeReader", "ScrapeTarget", "parse_samples"]

Sample = tuple[str, Mapping[str, str], float]


@dataclass(frozen=True)
class ScrapeTarget:
    """A /metrics endpoint; `job` is usually the service name."""

    job: str
    url: str

    @property
    def instance(self) -> str:
        return urlsplit(self.url).netloc


def parse_samples(text: str, target: ScrapeTarget) -> list[Sample]:
    """The samples of a text exposition, labelled with the target's job and instance."""
    extra = {"job": target.job, "instance": target.instance}
    samples: list[Sample] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue  # creation timestamps, not values any SLI reads
            samples.append((sample.name, {**sample.labels, **extra}, float(sample.value)))
    return samples


class ScrapeReader:
    """An `SliReader` that scrapes `targets` itself. Use `async with reader:` to
    run the scrape loop in the background, or call `scrape_once()` yourself."""

    def __init__(
        self,
        targets: Iterable[ScrapeTarget],
        *,
        interval: float = SCRAPE_INTERVALS["process"],
        timeout: float = 1.0,
        history: SampleHistory | None = None,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.targets = tuple(targets)
        self.interval = interval
        self.timeout = timeout
        if history is None:  # the whole of the longest run, at this interval
            history = SampleHistory(RUN_RETENTION_S, max_samples_for(RUN_RETENTION_S, interval))
        self.history = history
        self.clock = clock
        self.last_errors: dict[str, str] = {}
        self._session = session
        self._own_session = session is None
        self._task: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- scraping

    async def __aenter__(self) -> ScrapeReader:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        await self.scrape_once()
        self._task = asyncio.create_task(self._loop(), name="chaosbed-slo-scrape")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval - (self.clock() % self.interval))
            await self.scrape_once()

    async def scrape_once(self) -> dict[str, bool]:
        """Scrape every target once; returns which jobs answered."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        started = self.clock()
        results = await asyncio.gather(*(self._fetch(t) for t in self.targets))
        samples: list[Sample] = []
        up: dict[str, bool] = {}
        for target, result in zip(self.targets, results, strict=True):
            ok = isinstance(result, list)
            up[target.job] = ok
            if isinstance(result, list):
                samples.extend(result)
                self.last_errors.pop(target.job, None)
            else:
                self.last_errors[target.job] = result
            labels = {"job": target.job, "instance": target.instance}
            samples.append(("up", labels, 1.0 if ok else 0.0))
        self.history.add(started, samples)
        return up

    async def _fetch(self, target: ScrapeTarget) -> list[Sample] | str:
        assert self._session is not None
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with self._session.get(target.url, timeout=timeout) as response:
                if response.status != 200:
                    return f"HTTP {response.status}"
                text = await response.text()
            return parse_samples(text, target)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            return f"{type(error).__name__}: {error}".rstrip(": ")

    # ---------------------------------------------------------------- reading

    def check(self, slo: Slo) -> None:
        if isinstance(plan(slo), RawQuery):
            raise UnsupportedIndicator(
                slo.name,
                "raw PromQL needs the prometheus backend (--slo-backend prometheus); "
                "the scrape backend computes availability and latency SLOs only",
            )

    async def value(self, slo: Slo) -> float | None:
        self.check(slo)
        return self.evaluate(plan(slo), self.clock())

    def evaluate(self, query: Query, now: float) -> float | None:
        if isinstance(query, RatioQuery):
            total = self._sum_increase(query.total, now - query.window, now)
            if total is None or total == 0:
                return None  # no traffic in the window: no data, never 100%
            good = self._sum_increase(query.good, now - query.window, now) or 0.0
            return 100.0 * good / total
        if isinstance(query, QuantileQuery):
            return self._quantile(query, now)
        raise UnsupportedIndicator("<raw>", "raw PromQL needs the prometheus backend")

    def _sum_increase(
        self, selectors: Iterable[Selector], start: float, end: float
    ) -> float | None:
        found = [
            delta
            for selector in selectors
            for series in self.history.select(selector)
            if (delta := increase(series.between(start, end), start, end)) is not None
        ]
        return sum(found) if found else None

    def _quantile(self, query: QuantileQuery, now: float) -> float | None:
        buckets: dict[float, float] = {}
        start = now - query.window
        for selector in query.buckets:
            for series in self.history.select(selector):
                delta = increase(series.between(start, now), start, now)
                le = series.labels.get("le")
                if delta is None or le is None:
                    continue
                bound = float(le)
                buckets[bound] = buckets.get(bound, 0.0) + delta
        if not buckets:
            return None
        seconds = histogram_quantile(query.quantile, buckets.items())
        return None if math.isnan(seconds) else 1000.0 * seconds

    async def max_over(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> float | None:
        now = self.clock() if at is None else at
        values = [
            value
            for series in self.history.select(Selector.equal(metric, labels))
            for _, value in series.between(since, now)
            if not math.isnan(value)
        ]
        return max(values) if values else None

    async def increase(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> float | None:
        now = self.clock() if at is None else at
        return self._sum_increase([Selector.equal(metric, labels)], since, now)
