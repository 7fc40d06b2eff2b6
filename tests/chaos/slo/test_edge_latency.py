"""Edge latency times only the callers' tries that reached the service.

Catalog hangs (every request held until the caller's 0.5 s per-try timeout);
recommendations' breaker on catalog opens after a few timed-out tries and
then short-circuits every call in about a millisecond. Those short-circuits
are not catalog's latency: the edge p95 stays at the timeouts, where, timing
every try, it read a few milliseconds with the catalog answering nothing.
"""

from __future__ import annotations

import time

import aiohttp

from chaos.experiment.model import Latency, Objective, Slo
from chaos.slo import ScrapeReader

from .conftest import Stack

EDGE_P95 = Slo("edge-p95", Latency("catalog", 95), Objective("<", 100.0), window=120.0)
CALLS = "chaosbed_dependency_calls_total"


async def test_short_circuited_tries_do_not_make_a_hung_dependency_look_fast(stack: Stack) -> None:
    homepage = f"{stack.urls['recommendations']}/recommendations/m-1"
    async with aiohttp.ClientSession() as session:
        reader = ScrapeReader(stack.targets(), session=session)
        await reader.scrape_once()
        await stack.fault({"kind": "hang", "route": "*", "ttl_s": 60})
        for _ in range(20):  # each a few tries that time out, until the breaker opens
            await stack.members.request("homepage", "recommendations", homepage)
            await reader.scrape_once()
            if await _breaker_open(reader):
                break
        for _ in range(200):  # short-circuited at once, served from the cached list
            await stack.members.request("homepage", "recommendations", homepage)
        await reader.scrape_once()

        short_circuited = await reader.increase(
            CALLS, {"dependency": "catalog", "outcome": "short_circuited"}, time.time() - 120
        )
        p95 = await reader.value(EDGE_P95)

    assert await _breaker_open(reader)
    assert short_circuited is not None and short_circuited >= 200
    assert p95 is not None and p95 >= 300.0, p95  # the 0.5 s timeouts, not ~1 ms


async def _breaker_open(reader: ScrapeReader) -> bool:
    labels = {"service": "recommendations", "dependency": "catalog"}
    state = await reader.max_over(
        "chaosbed_circuit_breaker_state", labels, time.time() - 60, at=time.time() + 1
    )
    return state == 1
