"""Benchmark: does the load generator keep its rate, and what does it cost?

A child process runs the four real services (`benchmarks.stack`) on free
loopback ports, wired to each other. This process drives open-loop traffic at them
with the default mix, one run per rate, and prints target vs achieved rate,
late arrivals, outcomes, member-side p50/p99, and the generator's own CPU
time per second of run (time.process_time of this process only: the
services' CPU is in the child). Run:

    python -m benchmarks.load_generator --rates 50,100,200 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp

from chaos.experiment.model import LoadSpec
from chaos.load import LoadConfig, LoadGenerator, LoadMetrics, Targets
from chaos.load.parsing import DEFAULT_MIX, parse_mix

from .harness import free_ports, processes, url, wait_ready
from .stack import SERVICES

CATALOG_SIZE = 5000  # the stack's catalog (CatalogSettings' default size)


async def drive(targets: Targets, rate: float, duration: float, mix: str) -> dict[str, object]:
    spec = LoadSpec(rate=rate, mix=parse_mix(mix), experiment_percent=50.0, seed=1)
    config = LoadConfig(spec, duration, targets, catalog_size=CATALOG_SIZE)
    generator = LoadGenerator(config, metrics=LoadMetrics())
    cpu, wall = time.process_time(), time.perf_counter()
    results = await generator.run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    outcomes: dict[str, int] = {}
    for journey in results.journeys:
        for outcome, count in journey.outcomes.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    return {
        "target_rate": rate,
        "achieved_rate": results.achieved_rate,
        "arrivals": results.arrivals,
        "late": results.late,
        "max_lag_ms": results.max_lag_ms,
        "outcomes": {k: v for k, v in outcomes.items() if v},
        "p50_ms": {j.journey: j.p50_ms for j in results.journeys if j.arrivals},
        "p99_ms": {j.journey: j.p99_ms for j in results.journeys if j.arrivals},
        "cpu_s_per_s": round(cpu / wall, 4),
        "cpu_ms_per_request": round(1000 * cpu / max(1, results.sent), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="50,100,200")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--mix", default=DEFAULT_MIX)
    args = parser.parse_args()
    ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
    targets = Targets(**{name: url(port) for name, port in ports.items()})
    with tempfile.TemporaryDirectory() as tmp, processes(Path(tmp)) as procs:
        db = str(Path(tmp) / "profiles.db")
        procs.start("load-stack", ["-m", "benchmarks.stack", json.dumps(ports), db])
        asyncio.run(_ready(targets))
        for rate in (float(r) for r in args.rates.split(",")):
            print(json.dumps(asyncio.run(drive(targets, rate, args.duration, args.mix))))
    return 0


async def _ready(targets: Targets) -> None:
    async with aiohttp.ClientSession() as session:
        await wait_ready(session, *(targets.url(name) for name in SERVICES))


if __name__ == "__main__":
    raise SystemExit(main())
