"""(b) Retry amplification at a failing leaf, through two and three hops.

member -> gateway (a kit app, the member's first hop) [-> a second gateway]
-> recommendations (the real service) -> catalog, here a leaf that fails and
counts the requests carrying a member's request id (the recommendations
refresher's background calls carry none and are left out). Profiles is the
real service, healthy. The figure is requests reaching the leaf per member
request; the ideal is 1.0 (no retries at all).

Two leaves: a dead one answers 503 at once; a hanging one never answers, so
every try of the hop calling it ends on its per-try timeout, and every hop
above waits for the one below (timeouts that nest, services/common/timeouts.py).

Three views of each: the first member request alone (its budget still has
the floor of retries a quiet service gets: bounded by one hop's attempts,
not their product over hops); a sustained run with breakers off (what the
retry budget alone allows); and a sustained run with the default breakers.

``python -m benchmarks.retry_amplification [--scale X]`` runs it alone.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from .harness import ROOT, Row, free_port, processes, url, wait_ready

ATTEMPTS = 3  # the kit's default attempts per call
GOAL = 1.1
BREAKERS_OFF = "1000000"
MEMBER_TIMEOUT_S = 10.0  # a member's patience: far beyond the 2 s default deadline


@dataclass(frozen=True)
class Case:
    leaf: str  # "dead-leaf" or "hang-leaf"
    gateways: int  # kit hops in front of recommendations: 1 = two hops to the leaf
    members: int
    concurrency: int

    @property
    def name(self) -> str:
        what = "dead" if self.leaf == "dead-leaf" else "hanging"
        return f"{what} leaf, {self.gateways + 1} hops"


CASES = (
    Case("dead-leaf", 1, 400, 8),
    Case("hang-leaf", 1, 160, 16),
    Case("hang-leaf", 2, 160, 16),
)


async def run(log_dir: Path, scale: float = 1.0) -> list[Row]:
    rows: list[Row] = []
    for case in CASES:
        members = max(20, int(case.members * scale))
        cold, off = await _scenario(log_dir, case, members, breakers=False)
        _, defaults = await _scenario(log_dir, case, members, breakers=True)
        rows += _rows(case, members, cold, off, defaults)
    return rows


def _rows(case: Case, members: int, cold: float, off: float, defaults: float) -> list[Row]:
    bench = f"b retry amplification, {case.name}"
    note = f"{members} member requests, {case.concurrency} at a time"
    return [
        Row(
            bench,
            "leaf requests, first member request",
            cold,
            1.0,
            "req",
            goal=f"<= {ATTEMPTS} (one hop's tries)",
            met=cold <= ATTEMPTS,
            note="budget floor allows retries; two layers retrying would make 9",
        ),
        Row(
            bench,
            "leaf requests per member request, breakers off",
            off,
            1.0,
            "req",
            goal=f"<= {GOAL}",
            met=off <= GOAL,
            note=note,
        ),
        Row(
            bench,
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
    log_dir: Path, case: Case, members: int, *, breakers: bool
) -> tuple[float, float]:
    """(leaf requests for the first member request, per member request over all)."""
    leaf, profiles, recs = (free_port() for _ in range(3))
    gateways = [free_port() for _ in range(case.gateways)]
    off = {} if breakers else _breakers_off("CATALOG")
    gateway_env = {} if breakers else _breakers_off("RECOMMENDATIONS")
    with processes(log_dir) as procs:
        procs.start(case.leaf, ["-m", "benchmarks.servers", case.leaf, str(leaf)])
        db = {"CHAOSBED_PROFILES_DB": str(log_dir / f"profiles-{profiles}.db")}
        procs.service("profiles", profiles, db)
        recs_env = {"CHAOSBED_CATALOG_URL": url(leaf), "CHAOSBED_PROFILES_URL": url(profiles)}
        procs.service("recommendations", recs, {**recs_env, **off})
        targets = [*gateways[1:], recs]  # each gateway forwards to the next hop
        for i, (port, target) in enumerate(zip(gateways, targets, strict=True)):
            args = ["-m", "benchmarks.servers", "gateway", str(port), url(target)]
            procs.start(f"gateway-{i}", args, gateway_env)
        timeout = aiohttp.ClientTimeout(total=MEMBER_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await wait_ready(session, url(leaf), path="/_bench/count")
            await wait_ready(session, url(profiles), url(recs), *map(url, gateways))
            entry = url(gateways[0])
            await _member(session, entry, 0)
            first = await _leaf_count(session, url(leaf))
            semaphore = asyncio.Semaphore(case.concurrency)

            async def limited(i: int) -> None:
                async with semaphore:
                    await _member(session, entry, i)

            await asyncio.gather(*(limited(i) for i in range(1, members)))
            total = await _leaf_count(session, url(leaf))
    return first, total / members


async def _member(session: aiohttp.ClientSession, gateway: str, i: int) -> None:
    async with session.get(f"{gateway}/recommendations/m-{i}") as resp:
        await resp.read()
        if resp.status not in (503, 504):
            message = f"the gateway answered {resp.status}, not 503 or 504 (catalog is failing)"
            raise SystemExit(message)


async def _leaf_count(session: aiohttp.ClientSession, leaf: str) -> int:
    async with session.get(leaf + "/_bench/count") as resp:
        return int((await resp.json()).get("member", 0))


def _breakers_off(dependency: str) -> dict[str, str]:
    """Settings that keep a dependency's breaker closed: neither consecutive
    failures nor the failure-rate window (which needs a minimum of calls) open it."""
    prefix = f"CHAOSBED_{dependency}_BREAKER_"
    return {f"{prefix}FAIL_MAX": BREAKERS_OFF, f"{prefix}MIN_CALLS": BREAKERS_OFF}


def main() -> None:
    from .__main__ import table  # the suite's table, for a run of this benchmark alone

    parser = argparse.ArgumentParser(description="retry amplification at a failing leaf")
    parser.add_argument("--scale", type=float, default=1.0, help="member requests x this")
    parser.add_argument("--log-dir", type=Path, default=ROOT / ".chaosbed" / "bench")
    args = parser.parse_args()
    args.log_dir.mkdir(parents=True, exist_ok=True)
    print(table(asyncio.run(run(args.log_dir, args.scale))))


if __name__ == "__main__":
    main()
