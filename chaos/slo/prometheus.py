"""The prometheus backend: SLOs as PromQL, read from a Prometheus server's HTTP API.

Each read is one instant query (`GET /api/v1/query`) evaluated at the
reader's clock, so that a caller comparing backends reads both at the same
instant. An empty answer or NaN (no traffic in the window) is None.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from chaos.experiment.model import Slo

from .errors import BackendUnavailable, QueryFailed
from .query import Selector, duration, plan, render

__all__ = ["PrometheusReader"]


class PrometheusReader:
    """An `SliReader` backed by the Prometheus at `url` (e.g. http://127.0.0.1:9090)."""

    def __init__(
        self,
        url: str,
        *,
        session: aiohttp.ClientSession,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.clock = clock
        self._session = session

    def check(self, slo: Slo) -> None:
        plan(slo)  # every indicator can be read; this refuses only malformed ones

    async def value(self, slo: Slo) -> float | None:
        return await self.query(render(plan(slo)))

    async def max_over(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> float | None:
        now = self.clock() if at is None else at
        window = duration(max(now - since, 0.001))
        selector = Selector.equal(metric, labels).promql()
        return await self.query(f"max(max_over_time({selector}[{window}]))", at=now)

    async def increase(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> float | None:
        now = self.clock() if at is None else at
        window = duration(max(now - since, 0.001))
        selector = Selector.equal(metric, labels).promql()
        return await self.query(f"sum(increase({selector}[{window}]))", at=now)

    async def wait_for_targets(self, count: int, timeout: float = 15.0) -> None:
        """Wait until `count` targets have been scraped. Prometheus applies its
        targets a few seconds after it is ready; reads before that see nothing."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                seen = await self.query("count(up)")
            except BackendUnavailable:
                seen = None
            if seen is not None and seen >= count:
                return
            if time.monotonic() >= deadline:
                raise BackendUnavailable(
                    f"Prometheus at {self.url} scraped {int(seen or 0)} of {count} targets "
                    f"within {timeout:.0f}s"
                )
            await asyncio.sleep(0.25)

    async def query(self, promql: str, *, at: float | None = None) -> float | None:
        """One number from an instant query: None for an empty answer or NaN."""
        params = {"query": promql, "time": f"{self.clock() if at is None else at:.3f}"}
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with self._session.get(
                f"{self.url}/api/v1/query", params=params, timeout=timeout
            ) as response:
                try:
                    body: Any = await response.json(content_type=None)
                except ValueError:
                    body = None
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise BackendUnavailable(
                f"Prometheus at {self.url} did not answer: {type(error).__name__}: {error}"
            ) from error
        if not isinstance(body, dict) or body.get("status") != "success":
            message = body.get("error") if isinstance(body, dict) else None
            raise QueryFailed(promql, f"Prometheus answered HTTP {status}: {message or 'no JSON'}")
        return _one_number(promql, body.get("data", {}))


def _one_number(promql: str, data: Any) -> float | None:
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "scalar":
        value = float(result[1])
    elif kind == "vector":
        if not result:
            return None
        if len(result) > 1:
            raise QueryFailed(
                promql, f"answered {len(result)} series; an SLO needs one number (aggregate it)"
            )
        value = float(result[0]["value"][1])
    else:
        raise QueryFailed(promql, f"answered a {kind}; an SLO needs an instant vector or scalar")
    return None if math.isnan(value) else value
