"""A stopped catalog: its own series go silent, its members and callers see it fail.

Traffic runs at a bounded rate (one title and one homepage request every
50 ms); the scrape backend reads every 0.5 s over a 3 s window. The test
records how long after the stop each SLI first breaches (printed with -s).
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from chaos.experiment.model import Availability, Objective, Slo
from chaos.slo import ScrapeReader

from .conftest import Stack

OBJECTIVE = Objective(">=", 99.0)
EDGE = Slo("edge", Availability("catalog"), OBJECTIVE, window=3.0)
MEMBERS = Slo("members", Availability("catalog", source="members"), OBJECTIVE, window=3.0)
SERVER = Slo("server", Availability("catalog", source="server"), OBJECTIVE, window=3.0)


async def drive(stack: Stack, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.gather(stack.one_round(), asyncio.sleep(0.05))


async def test_a_stopped_service_breaches_edge_availability_and_its_own_series_miss_it(
    stack: Stack,
) -> None:
    stop = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        reader = ScrapeReader(stack.targets(), session=session, interval=0.5)
        traffic = asyncio.create_task(drive(stack, stop))
        try:
            async with reader:
                await asyncio.sleep(3.5)
                for slo in (EDGE, MEMBERS, SERVER):
                    value = await reader.value(slo)
                    assert value is not None and OBJECTIVE.holds(value), (slo.name, value)

                await stack.catalog.close()
                stopped = time.monotonic()
                detected: dict[str, float] = {}
                server_values = []
                while time.monotonic() - stopped < 6.0:
                    await asyncio.sleep(0.1)
                    for slo in (EDGE, MEMBERS):
                        value = await reader.value(slo)
                        if value is not None and not OBJECTIVE.holds(value):
                            detected.setdefault(slo.name, time.monotonic() - stopped)
                    server_values.append(await reader.value(SERVER))
        finally:
            stop.set()
            await traffic
    print(f"\ndetected after stop: {detected}; server SLI last {server_values[-1]}")
    assert set(detected) == {"edge", "members"}
    # the service's own series: never a breach, only 100% from before the stop, then no data
    assert all(v is None or OBJECTIVE.holds(v) for v in server_values), server_values
    assert server_values[-1] is None
