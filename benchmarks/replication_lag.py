"""Replication in steady state: commit-to-apply delay p50/p99 and the workload's ops/s.

Three profiles replicas (us, eu, apac) as real processes on free loopback
ports, each with its own database in a temporary directory; the history
workload (concurrent devices writing, syncing and reading on every replica;
bounded: a few devices, a pause between operations) runs for `--seconds`.
Afterwards every replica's `chaosbed_profiles_replication_delay_seconds`
histogram (commit on the home replica -> applied on this one) is summed and
its p50 and p99 estimated by linear interpolation within the buckets, as
Prometheus' histogram_quantile does; the history is checked as in a run.

    python -m benchmarks.replication_lag [--seconds 20] [--devices 6]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from chaos.history import History, check_history
from chaos.history.workload import Workload, WorkloadSpec, final_states
from services.topology import PROFILES_REPLICAS, url_variable

from .harness import free_ports, processes, url, wait_ready

DELAY = "chaosbed_profiles_replication_delay_seconds"


async def delay_buckets(session: aiohttp.ClientSession, bases: list[str]) -> dict[float, float]:
    """Cumulative bucket counts (upper bound -> count), summed over every replica."""
    summed: dict[float, float] = {}
    for base in bases:
        async with session.get(f"{base}/metrics") as response:
            text = await response.text()
        for family in text_string_to_metric_families(text):
            if family.name != DELAY:
                continue
            for sample in family.samples:
                if sample.name == DELAY + "_bucket":
                    bound = float(sample.labels["le"])
                    summed[bound] = summed.get(bound, 0.0) + sample.value
    return summed


def quantile(q: float, buckets: dict[float, float]) -> float:
    """histogram_quantile over cumulative buckets; nan without observations."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] == 0:
        return math.nan
    rank = q * buckets[bounds[-1]]
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return lower_bound


async def measure(seconds: float, devices: int, data: Path) -> None:
    names = list(PROFILES_REPLICAS.values())
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    peers = {url_variable(name): url(port) for name, port in ports.items()}
    with processes(data) as procs:
        for region, name in PROFILES_REPLICAS.items():
            env = {
                **peers,
                "CHAOSBED_PROFILES_REGION": region,
                "CHAOSBED_PROFILES_DB": str(data / f"{name}.db"),
            }
            procs.start(
                name, ["-m", "services.profiles"], {"CHAOSBED_PORT": str(ports[name]), **env}
            )
        replicas = {name: url(port) for name, port in ports.items()}
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, *replicas.values())
            workload = Workload(replicas, WorkloadSpec(devices=devices, members=8, seed=7))
            started = time.monotonic()
            task = asyncio.create_task(workload.run())
            await asyncio.sleep(seconds)
            workload.stop()
            await task
            elapsed = time.monotonic() - started
            heal_at = time.time()
            final = await final_states(replicas, workload.members, heal_at=heal_at, bound_s=5.0)
            buckets = await delay_buckets(session, list(replicas.values()))
    report = check_history(History(tuple(workload.ops), heal_at, final), bound_s=5.0)
    done = [op for op in workload.ops if op.status == "ok"]
    ops_s, ok_s = len(workload.ops) / elapsed, len(done) / elapsed
    p50, p99 = quantile(0.5, buckets) * 1000, quantile(0.99, buckets) * 1000
    print(f"workload: {len(workload.ops)} operations in {elapsed:.1f}s = {ops_s:.1f} ops/s")
    print(f"  ({ok_s:.1f} ok/s), {devices} devices on 3 replicas")
    print(f"replication commit-to-apply delay, {buckets.get(math.inf, 0):.0f} applies:")
    print(f"  p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"history: {report.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--devices", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chaosbed-replication-") as tmp:
        asyncio.run(measure(args.seconds, args.devices, Path(tmp)))


if __name__ == "__main__":
    main()
