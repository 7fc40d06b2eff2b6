"""(b) Retry amplification through two hops at a dead leaf.

member -> gateway (a kit app, the member's first hop) -> recommendations (the
real service) -> catalog, here a dead leaf that answers 503 to everything and
counts the requests carrying a member's request id (the recommendations
refresher's background calls carry none and are left out). Profiles is the
real service, healthy. The figure is requests reaching the leaf per member
request; the ideal is 1.0 (no retries at all).

Three views: the first member request alone (its budget still has the floor
of retries a quiet service gets: bounded by one hop's attempts, not their
product over hops); a sustained run with breakers off (what the retry budget
alone allows); and a sustained run with the default breakers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from .harness import Row, free_port, processes, url, wait_ready

ATTEMPTS = 3  # the kit's default attempts per call
GOAL = 1.1
BREAKERS_OFF = "1000000"


async def run(log_dir: Path, members: int = 400, concurrency: int = 8) -> list[Row]:
    cold, off = await _scenario(log_dir, members, concurrency, breakers=False)
    _, defaults = await _scenario(log_dir, members, concurrency, breakers=True)
    note = f"{members} member requests, {concurrency} at a time"
    return [
        Row(
            "b retry amplification",
            "leaf requests, first member request",
            cold,
            1.0,
            "req",
            goal=f"<= {ATTEMPTS} (one hop's tries)",
            met=cold <= ATTEMPTS,
            note="budget floor allows retries; two layers retrying would make 9",
        ),
        Row(
            "b retry amplification",
            "leaf requests per member request, breakers off",
            off,
            1.0,
            "req",
            goal=f"<= {GOAL}",
            met=off <= GOAL,
            note=note,
        ),
        Row(
            "b retry amplification",
            "leaf requests per member request, default breakers",
            defaults,
            1.0,
            "req",
            goal=f"<= {GOAL}",
            met=defaults <= GOAL,
            note=note,
        ),
    ]


async def _scenario(
    log_dir: Path, members: int, concurrency: int, *, breakers: bool
) -> tuple[float, float]:
    """(leaf requests for the first member request, per member request over all)."""
    leaf, profiles, recs, gateway = (free_port() for _ in range(4))
    off = {} if breakers else _breakers_off("CATALOG")
    gateway_env = {} if breakers else _breakers_off("RECOMMENDATIONS")
    with processes(log_dir) as procs:
        procs.start("dead-leaf", ["-m", "benchmarks.servers", "dead-leaf", str(leaf)])
        db = {"CHAOSBED_PROFILES_DB": str(log_dir / f"profiles-{profiles}.db")}
        procs.service("profiles", profiles, db)
        recs_env = {"CHAOSBED_CATALOG_URL": url(leaf), "CHAOSBED_PROFILES_URL": url(profiles)}
        procs.service("recommendations", recs, {**recs_env, **off})
        args = ["-m", "benchmarks.servers", "gateway", str(gateway), url(recs)]
        procs.start("gateway", args, gateway_env)
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, url(leaf), path="/_bench/count")
            await wait_ready(session, url(profiles), url(recs), url(gateway))
            await _member(session, url(gateway), 0)
            first = await _leaf_count(session, url(leaf))
            semaphore = asyncio.Semaphore(concurrency)

            async def limited(i: int) -> None:
                async with semaphore:
                    await _member(session, url(gateway), i)

            await asyncio.gather(*(limited(i) for i in range(1, members)))
            total = await _leaf_count(session, url(leaf))
    return first, total / members


async def _member(session: aiohttp.ClientSession, gateway: str, i: int) -> None:
    async with session.get(f"{gateway}/recommendations/m-{i}") as resp:
        await resp.read()
        if resp.status != 503:
            raise SystemExit(f"the gateway answered {resp.status}, not 503 (catalog is dead)")


async def _leaf_count(session: aiohttp.ClientSession, leaf: str) -> int:
    async with session.get(leaf + "/_bench/count") as resp:
        return int((await resp.json()).get("member", 0))


def _breakers_off(dependency: str) -> dict[str, str]:
    """Settings that keep a dependency's breaker closed: neither consecutive
    failures nor the failure-rate window (which needs a minimum of calls) open it."""
    prefix = f"CHAOSBED_{dependency}_BREAKER_"
    return {f"{prefix}FAIL_MAX": BREAKERS_OFF, f"{prefix}MIN_CALLS": BREAKERS_OFF}
