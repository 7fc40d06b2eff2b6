"""Benchmark: what live fault rules on other routes cost a request.

Starts the real catalog service (``python -m services.catalog``) on a free
loopback port, then measures ``GET /popular`` sequentially in three phases:
no rules, the service's cap of rules (``max_rules`` from the control API,
else ``--rules``) on ``/titles/{id}``, no rules again. Prints p50 and p99 of
each phase and the ratio of the loaded p50 to the unloaded p50 (both
unloaded phases pooled). Run: ``python benchmarks/fault_rules_cost.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time

import aiohttp

TAG = "bench-fault-rules"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def wait_ready(session: aiohttp.ClientSession, base: str) -> None:
    async with asyncio.timeout(60):
        while True:
            try:
                async with session.get(f"{base}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


async def sample(session: aiohttp.ClientSession, url: str, n: int) -> list[float]:
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        async with session.get(url) as resp:
            await resp.read()
            if resp.status != 200:
                raise SystemExit(f"GET {url} answered {resp.status}")
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def fill(session: aiohttp.ClientSession, base: str, auth: dict[str, str], n: int) -> int:
    rule = {"kind": "error", "route": "/titles/{id}", "status": 500, "ttl_s": 600, "tag": TAG}
    rule["cohort"] = "experiment"
    for i in range(n):
        async with session.post(f"{base}/_chaos/faults", json=rule, headers=auth) as resp:
            if resp.status != 201:
                raise SystemExit(f"rule {i + 1} refused: {resp.status} {await resp.text()}")
    return n


async def drive(port: int, token: str, requests: int, fallback_rules: int) -> None:
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    url = f"{base}/popular?limit=10"
    async with aiohttp.ClientSession() as session:
        await wait_ready(session, base)
        async with session.get(f"{base}/_chaos/faults", headers=auth) as resp:
            cap = int((await resp.json()).get("max_rules", fallback_rules))
        await sample(session, url, requests // 5)  # warm-up
        before = await sample(session, url, requests)
        added = await fill(session, base, auth, cap)
        loaded = await sample(session, url, requests)
        async with session.delete(f"{base}/_chaos/faults?tag={TAG}", headers=auth) as resp:
            await resp.read()
        after = await sample(session, url, requests)
    print(f"GET /popular, {requests} sequential requests per phase, real catalog on loopback")
    print(f"{'phase':28}{'p50 ms':>10}{'p99 ms':>10}")
    phases = [("no rules", before), (f"{added} rules on /titles/{{id}}", loaded)]
    phases.append(("no rules (again)", after))
    for name, timings in phases:
        print(f"{name:28}{pct(timings, 50):10.3f}{pct(timings, 99):10.3f}")
    ratio = pct(loaded, 50) / pct(before + after, 50)
    print(f"ratio p50 with {added} rules / without: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rules", type=int, default=1000, help="when the service names no cap")
    args = parser.parse_args()
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "CHAOSBED_PORT": str(port), "CHAOSBED_CONTROL_TOKEN": token}
    env["CHAOSBED_LOG_LEVEL"] = "ERROR"
    server = subprocess.Popen([sys.executable, "-m", "services.catalog"], env=env)
    try:
        asyncio.run(drive(port, token, args.requests, args.rules))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
