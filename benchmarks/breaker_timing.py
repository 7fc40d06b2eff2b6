"""(d) How fast the recommendations -> profiles breaker opens and closes again.

The real catalog, profiles and recommendations services with their default
settings, under a steady homepage load. Profiles starts failing (an
``error`` 500 fault on every route, through its control API); the time until
recommendations reports the breaker open (``chaosbed_circuit_breaker_state``
1, polled on its /metrics) is the time to open. The fault is removed as soon
as the breaker is open; the time until it reports closed (0) is the time to
close, to set beside the configured reset timeout (open -> half-open).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import aiohttp

from services.common import DependencySettings

from .harness import Row, add_fault, clear_faults, free_port, processes, sample, url, wait_ready

ERROR = {"kind": "error", "status": 500, "route": "*", "ttl_s": 120, "tag": "bench-breaker"}
POLL_S = 0.02
OPEN, CLOSED = 1.0, 0.0


async def run(log_dir: Path, rate: float = 50.0) -> list[Row]:
    defaults = DependencySettings("profiles", "")
    reset_ms = defaults.breaker_reset_s * 1000
    catalog, profiles, recs = free_port(), free_port(), free_port()
    with processes(log_dir) as procs:
        procs.service("catalog", catalog)
        db = {"CHAOSBED_PROFILES_DB": str(log_dir / f"profiles-{profiles}.db")}
        procs.service("profiles", profiles, db)
        env = {"CHAOSBED_CATALOG_URL": url(catalog), "CHAOSBED_PROFILES_URL": url(profiles)}
        procs.service("recommendations", recs, env)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await wait_ready(session, url(catalog), url(profiles), url(recs))
            load = asyncio.create_task(_steady_load(session, url(recs), rate))
            try:
                await asyncio.sleep(1.0)  # steady state first
                failed_at = time.monotonic()
                await add_fault(session, url(profiles), ERROR)
                try:
                    opened_at = await _until_state(session, url(recs), OPEN, 10.0)
                finally:
                    await clear_faults(session, url(profiles))
                recovered_at = time.monotonic()
                limit_s = 3 * defaults.breaker_reset_s + 5.0
                closed_at = await _until_state(session, url(recs), CLOSED, limit_s)
            finally:
                load.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await load
    to_open = (opened_at - failed_at) * 1000
    to_close = (closed_at - recovered_at) * 1000
    note = f"fail_max {defaults.breaker_fail_max}, {rate:g} homepages/s, polled every 20 ms"
    return [
        Row("d breaker timing", "time to open from failing", to_open, reset_ms, "ms", note=note),
        Row(
            "d breaker timing",
            "time to close from recovering",
            to_close,
            reset_ms,
            "ms",
            goal="<= reset + 500 ms",
            met=to_close <= reset_ms + 500,
            note="baseline: the configured reset timeout",
        ),
    ]


async def _until_state(
    session: aiohttp.ClientSession, base: str, state: float, limit_s: float
) -> float:
    """When recommendations first reports the profiles breaker in `state`."""
    give_up = time.monotonic() + limit_s
    while time.monotonic() < give_up:
        labels = {"service": "recommendations", "dependency": "profiles"}
        if await sample(session, base, "chaosbed_circuit_breaker_state", **labels) == state:
            return time.monotonic()
        await asyncio.sleep(POLL_S)
    raise SystemExit(f"the profiles breaker never reached state {state:g} within {limit_s:g}s")


async def _steady_load(session: aiohttp.ClientSession, base: str, rate: float) -> None:
    """Homepages at `rate` per second on a fixed schedule until cancelled."""
    tasks: set[asyncio.Task[None]] = set()
    start = time.monotonic()
    try:
        for i in range(10**9):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            task = asyncio.create_task(_homepage(session, f"{base}/recommendations/m-{i % 100}"))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _homepage(session: aiohttp.ClientSession, target: str) -> None:
    with contextlib.suppress(aiohttp.ClientError):
        async with session.get(target) as resp:
            await resp.read()
