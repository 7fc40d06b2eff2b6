"""(c) The homepage with one dependency blackholed.

The real catalog, profiles and recommendations services, each its own
process, with their default settings. Homepage requests arrive open-loop at
a fixed rate, each timed from its scheduled slot. First with no fault (the
baseline), then with profiles blackholed: a ``hang`` fault on every profiles
route through its control API, so calls are accepted and never answered.
Goal: at least 99% of homepages served (degraded is served) and p99 within
the per-try timeout plus 50 ms.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from services.common import DependencySettings

from .harness import (
    Result,
    Row,
    add_fault,
    clear_faults,
    free_port,
    open_loop,
    pct,
    processes,
    url,
    wait_ready,
)

GOAL_SERVED = 99.0
SLACK_MS = 50.0
MEMBERS = 100  # member ids m-0..m-99, cycled
HANG = {"kind": "hang", "route": "*", "ttl_s": 120, "tag": "bench-blackhole"}


async def run(log_dir: Path, rate: float = 50.0, requests: int = 400) -> list[Row]:
    catalog, profiles, recs = free_port(), free_port(), free_port()
    with processes(log_dir) as procs:
        procs.service("catalog", catalog)
        db = {"CHAOSBED_PROFILES_DB": str(log_dir / f"profiles-{profiles}.db")}
        procs.service("profiles", profiles, db)
        env = {"CHAOSBED_CATALOG_URL": url(catalog), "CHAOSBED_PROFILES_URL": url(profiles)}
        procs.service("recommendations", recs, env)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await wait_ready(session, url(catalog), url(profiles), url(recs))
            await _phase(session, url(recs), rate, 50)  # warm-up: connections, caches
            baseline = await _phase(session, url(recs), rate, requests)
            await add_fault(session, url(profiles), HANG)
            try:
                hung = await _phase(session, url(recs), rate, requests)
            finally:
                await clear_faults(session, url(profiles))
    return _rows(baseline, hung, rate, requests)


async def _phase(
    session: aiohttp.ClientSession, base: str, rate: float, count: int
) -> list[Result]:
    targets = [f"{base}/recommendations/m-{i % MEMBERS}" for i in range(count)]
    return await open_loop(session, targets, rate)


def _served(results: list[Result]) -> float:
    return 100.0 * sum(r.status == 200 for r in results) / len(results)


def _rows(baseline: list[Result], hung: list[Result], rate: float, requests: int) -> list[Row]:
    timeout_ms = DependencySettings("profiles", "").timeout_s * 1000
    note = f"{requests} homepages at {rate:g}/s, open loop"
    served, p99 = _served(hung), pct([r.latency_ms for r in hung], 99)
    return [
        Row(
            "c profiles blackholed",
            "homepages served (200, degraded allowed)",
            served,
            _served(baseline),
            "%",
            goal=f">= {GOAL_SERVED:g}",
            met=served >= GOAL_SERVED,
            note=note,
        ),
        Row(
            "c profiles blackholed",
            "homepage latency p99",
            p99,
            pct([r.latency_ms for r in baseline], 99),
            "ms",
            goal=f"<= {timeout_ms + SLACK_MS:g} (per-try timeout + {SLACK_MS:g})",
            met=p99 <= timeout_ms + SLACK_MS,
            note="baseline: the same load, no fault",
        ),
    ]
