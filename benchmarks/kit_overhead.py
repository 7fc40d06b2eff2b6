"""Benchmark: the resilience kit's added latency per hop, against a bare aiohttp hop.

Two hops run side by side in one server process, in front of the same
upstream:

- bare:  a plain aiohttp app whose handler calls the upstream with a plain
  ClientSession;
- kit:   an app built with create_service_app whose handler calls the
  upstream through a Dependency (context, metrics, faults check, deadline,
  retries, bulkhead, breaker, timeout).

The client (this process) sends requests to both hops interleaved, so any
noise on this shared machine hits both alike, and prints p50 and p99 for
each and the ratio kit/bare. Run: ``python benchmarks/kit_overhead.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time

import aiohttp
from aiohttp import web

from services.common import DEPENDENCIES, DependencySettings, ServiceSettings, create_service_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve(upstream_port: int, bare_port: int, kit_port: int) -> None:
    upstream = web.Application()

    async def title(request: web.Request) -> web.Response:
        return web.json_response({"id": 1, "name": "A title", "genres": ["drama"]})

    upstream.router.add_get("/titles/1", title)

    bare = web.Application()
    session_holder: list[aiohttp.ClientSession] = []

    async def bare_hop(request: web.Request) -> web.Response:
        async with session_holder[0].get(f"http://127.0.0.1:{upstream_port}/titles/1") as resp:
            return web.json_response(await resp.json())

    bare.router.add_get("/hop", bare_hop)

    kit = create_service_app(
        ServiceSettings("recommendations", kit_port),
        dependencies=[DependencySettings("catalog", f"http://127.0.0.1:{upstream_port}")],
    )

    async def kit_hop(request: web.Request) -> web.Response:
        resp = await request.app[DEPENDENCIES]["catalog"].get("/titles/1")
        return web.json_response(resp.data)

    kit.router.add_get("/hop", kit_hop)

    runners = []
    for app, port in ((upstream, upstream_port), (bare, bare_port), (kit, kit_port)):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    session_holder.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)))
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await session_holder[0].close()
        for runner in runners:
            await runner.cleanup()


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def drive(bare_port: int, kit_port: int, requests: int, warmup: int) -> None:
    results: dict[str, list[float]] = {"bare": [], "kit": []}
    urls = {
        "bare": f"http://127.0.0.1:{bare_port}/hop",
        "kit": f"http://127.0.0.1:{kit_port}/hop",
    }
    async with aiohttp.ClientSession() as session:
        for i in range(warmup + requests):
            order = ("bare", "kit") if i % 2 == 0 else ("kit", "bare")
            for name in order:
                started = time.perf_counter()
                async with session.get(urls[name]) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise SystemExit(f"{name} hop answered {resp.status}")
                if i >= warmup:
                    results[name].append((time.perf_counter() - started) * 1000)
    bare, kit = results["bare"], results["kit"]
    print(f"requests per hop: {requests} (after {warmup} warm-up), sequential, interleaved")
    print(f"{'':6}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name, samples in results.items():
        p50, p99, mean = pct(samples, 50), pct(samples, 99), statistics.mean(samples)
        print(f"{name:6}{p50:10.3f}{p99:10.3f}{mean:10.3f}")
    print(
        f"ratio kit/bare: p50 {pct(kit, 50) / pct(bare, 50):.2f}x, "
        f"p99 {pct(kit, 99) / pct(bare, 99):.2f}x; "
        f"added per hop at p50: {pct(kit, 50) - pct(bare, 50):.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--serve", nargs=3, type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(*args.serve))
        return
    ports = [free_port() for _ in range(3)]
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", *map(str, ports)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CHAOSBED_LOG_LEVEL": "ERROR"},
    )
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "ready":
            raise SystemExit("benchmark server did not start")
        asyncio.run(drive(ports[1], ports[2], args.requests, args.warmup))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
