"""(a) The kit's cost per hop, against a bare aiohttp hop in the same run.

Two hops, each in its own process, in front of the same bare upstream (a
third process): ``bare-hop`` calls it with a plain ClientSession, ``kit-hop``
through the kit (create_service_app's middlewares, a Dependency with retries,
bulkhead, breaker, timeout). This process sends sequential requests to both,
interleaved, so noise on a shared machine hits both alike, and reads each
hop's garbage collections (gc.callbacks) over the measured requests.
"""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from .harness import Row, free_port, pct, processes, url, wait_ready

HOPS = ("bare", "kit")
GOAL_RATIO = 1.15


async def run(log_dir: Path, requests: int = 2000, warmup: int = 300) -> list[Row]:
    upstream, bare, kit = free_port(), free_port(), free_port()
    with processes(log_dir) as procs:
        procs.start("upstream", ["-m", "benchmarks.servers", "upstream", str(upstream)])
        for name, port in (("bare", bare), ("kit", kit)):
            args = ["-m", "benchmarks.servers", f"{name}-hop", str(port), url(upstream)]
            procs.start(f"{name}-hop", args)
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, url(upstream), path="/titles/1")
            await wait_ready(session, url(bare), url(kit), path="/_bench/gc")
            hops = {"bare": url(bare), "kit": url(kit)}
            await _drive(session, hops, warmup)
            gc_before = {name: await _collections(session, base) for name, base in hops.items()}
            samples = await _drive(session, hops, requests)
            gc_after = {name: await _collections(session, base) for name, base in hops.items()}
    gc_per_1k = {name: _per_1k(gc_after[name], gc_before[name], requests) for name in HOPS}
    return _rows(samples, gc_per_1k, requests)


async def _drive(
    session: aiohttp.ClientSession, hops: dict[str, str], count: int
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in HOPS}
    for i in range(count):
        for name in HOPS if i % 2 == 0 else reversed(HOPS):
            started = time.perf_counter()
            async with session.get(hops[name] + "/hop") as resp:
                await resp.read()
                if resp.status != 200:
                    raise SystemExit(f"the {name} hop answered {resp.status}")
            samples[name].append((time.perf_counter() - started) * 1000)
    return samples


async def _collections(session: aiohttp.ClientSession, base: str) -> list[int]:
    async with session.get(base + "/_bench/gc") as resp:
        return list((await resp.json())["collections"])


def _rows(
    samples: dict[str, list[float]], gc_per_1k: dict[str, list[float]], requests: int
) -> list[Row]:
    rows = []
    for q in (50, 99):
        kit, bare = pct(samples["kit"], q), pct(samples["bare"], q)
        rows.append(
            Row(
                "a kit overhead",
                f"hop latency p{q} (kit vs bare)",
                kit,
                bare,
                "ms",
                goal=f"<= {GOAL_RATIO}x",
                met=kit <= GOAL_RATIO * bare,
                note=f"+{kit - bare:.3f} ms per hop; {requests} sequential requests each",
            )
        )
    kit_gc, bare_gc = gc_per_1k["kit"], gc_per_1k["bare"]
    rows.append(
        Row(
            "a kit overhead",
            "gc collections per 1k requests",
            sum(kit_gc),
            sum(bare_gc),
            "count",
            note="gen0/1/2 kit {} bare {}".format(*(_gens(g) for g in (kit_gc, bare_gc))),
        )
    )
    return rows


def _per_1k(after: list[int], before: list[int], requests: int) -> list[float]:
    return [(a - b) * 1000 / requests for a, b in zip(after, before, strict=True)]


def _gens(per_generation: list[float]) -> str:
    return "/".join(f"{n:.1f}" for n in per_generation)
