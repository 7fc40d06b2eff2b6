"""The four real services in one child process, wired to each other, with
the benchmark's control token: the stack a benchmark runs the chaos runner
against, so that the services' CPU is not the benchmark process's.

``python -m benchmarks.stack PORTS_JSON DB_PATH`` (PORTS_JSON maps each
service to its loopback port) serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

from services.catalog.app import create_app as catalog_app
from services.catalog.settings import CatalogSettings
from services.common import DependencySettings, ServiceSettings
from services.playback.app import create_app as playback_app
from services.playback.settings import PlaybackSettings
from services.profiles.app import create_app as profiles_app
from services.profiles.settings import ProfilesSettings
from services.recommendations.app import create_app as recommendations_app
from services.recommendations.settings import RecommendationsSettings

from .harness import CONTROL_TOKEN

SERVICES = ("catalog", "profiles", "recommendations", "playback")


def build_apps(ports: Mapping[str, int], db: Path) -> dict[str, web.Application]:
    def svc(name: str) -> ServiceSettings:
        return ServiceSettings(name, ports[name], control_token=CONTROL_TOKEN)

    def dep(name: str) -> DependencySettings:
        return DependencySettings(name, f"http://127.0.0.1:{ports[name]}")

    return {
        "catalog": catalog_app(CatalogSettings(svc("catalog"))),
        "profiles": profiles_app(ProfilesSettings(svc("profiles"), db)),
        "recommendations": recommendations_app(
            RecommendationsSettings(svc("recommendations"), dep("profiles"), dep("catalog"))
        ),
        "playback": playback_app(
            PlaybackSettings(svc("playback"), dep("profiles"), dep("catalog"))
        ),
    }


async def serve(ports: Mapping[str, int], db: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runners: list[web.AppRunner] = []
    try:
        for name, app in build_apps(ports, db).items():
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, "127.0.0.1", ports[name]).start()
        await stop.wait()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ports", help='JSON: {"catalog": PORT, ...} for all four services')
    parser.add_argument("db", type=Path, help="the profiles database file")
    args = parser.parse_args()
    ports = json.loads(args.ports)
    missing = [name for name in SERVICES if not isinstance(ports.get(name), int)]
    if missing:
        parser.error(f"ports: no port for {', '.join(missing)}")
    asyncio.run(serve(ports, args.db))


if __name__ == "__main__":
    main()
