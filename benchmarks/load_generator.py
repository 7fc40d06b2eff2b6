"""Benchmark: does the load generator keep its rate, and what does it cost?

A child process runs the four real services (create_app) on free loopback
ports, wired to each other. This process drives open-loop traffic at them
with the default mix, one run per rate, and prints target vs achieved rate,
late arrivals, outcomes, member-side p50/p99, and the generator's own CPU
time per second of run (time.process_time of this process only: the
services' CPU is in the child). Run:

    python benchmarks/load_generator.py --rates 50,100,200 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chaos.experiment.model import LoadSpec
from chaos.load import LoadConfig, LoadGenerator, LoadMetrics, Targets
from chaos.load.parsing import DEFAULT_MIX, parse_mix

SERVICES = ("catalog", "profiles", "recommendations", "playback")
CATALOG_SIZE = 5000


def free_ports() -> dict[str, int]:
    sockets = [socket.socket() for _ in SERVICES]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return {name: int(s.getsockname()[1]) for name, s in zip(SERVICES, sockets, strict=True)}
    finally:
        for sock in sockets:
            sock.close()


async def serve(ports: dict[str, int], db: Path) -> None:
    from aiohttp import web

    from services.catalog.app import create_app as catalog
    from services.catalog.settings import CatalogSettings
    from services.common import DependencySettings, ServiceSettings
    from services.playback.app import create_app as playback
    from services.playback.settings import PlaybackSettings
    from services.profiles.app import create_app as profiles
    from services.profiles.settings import ProfilesSettings
    from services.recommendations.app import create_app as recommendations
    from services.recommendations.settings import RecommendationsSettings

    def svc(name: str) -> ServiceSettings:
        return ServiceSettings(name, ports[name])

    def dep(name: str) -> DependencySettings:
        return DependencySettings(name, f"http://127.0.0.1:{ports[name]}")

    apps = {
        "catalog": catalog(CatalogSettings(svc("catalog"), size=CATALOG_SIZE)),
        "profiles": profiles(ProfilesSettings(svc("profiles"), db)),
        "recommendations": recommendations(
            RecommendationsSettings(svc("recommendations"), dep("profiles"), dep("catalog"))
        ),
        "playback": playback(PlaybackSettings(svc("playback"), dep("profiles"), dep("catalog"))),
    }
    runners = []
    for name, app in apps.items():
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", ports[name]).start()
        runners.append(runner)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until stdin closes
    for runner in reversed(runners):
        await runner.cleanup()


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
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # child mode: JSON of ports
    args = parser.parse_args()
    if args.serve:
        ports = json.loads(args.serve)
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(serve(ports, Path(tmp) / "profiles.db"))
        return 0
    ports = free_ports()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", json.dumps(ports)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        targets = Targets(**{name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
        for rate in (float(r) for r in args.rates.split(",")):
            print(json.dumps(asyncio.run(drive(targets, rate, args.duration, args.mix))))
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
