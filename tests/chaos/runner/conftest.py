"""The four real services on free loopback ports in the test's own event
loop, with a control token: the stack the runner tests run experiments on."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from chaos.faults.app import AppFaultDriver
from chaos.faults.control_client import ControlClient
from chaos.load import Targets
from chaos.slo import ScrapeReader, ScrapeTarget
from services.catalog.app import create_app as catalog_app
from services.catalog.settings import CatalogSettings
from services.common import DependencySettings, ServiceSettings
from services.playback.app import create_app as playback_app
from services.playback.settings import PlaybackSettings
from services.profiles.app import create_app as profiles_app
from services.profiles.settings import ProfilesSettings
from services.recommendations.app import create_app as recommendations_app
from services.recommendations.settings import RecommendationsSettings

from ..conftest import free_ports

TOKEN = "runner-test-token"
SERVICES = ("catalog", "profiles", "recommendations", "playback")


@dataclass
class Stack:
    ports: dict[str, int]
    load_port: int
    session: aiohttp.ClientSession

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in SERVICES}

    @property
    def targets(self) -> Targets:
        return Targets(**self.urls)

    def control(self) -> ControlClient:
        return ControlClient(self.urls, TOKEN, self.session)

    def app_driver(self, tag: str = "chaosbed-run-test") -> AppFaultDriver:
        return AppFaultDriver(self.control(), tag)

    def reader(self, interval: float = 0.5) -> ScrapeReader:
        targets = [ScrapeTarget(name, f"{self.url(name)}/metrics") for name in SERVICES]
        targets.append(ScrapeTarget("load", f"http://127.0.0.1:{self.load_port}/metrics"))
        return ScrapeReader(targets, interval=interval, timeout=0.5, session=self.session)

    async def rules(self) -> dict[str, list[dict[str, object]]]:
        control = self.control()
        return {name: await control.list(name) for name in SERVICES}


def build_apps(
    ports: Mapping[str, int], db: Path, dependency: Mapping[str, Any] | None = None
) -> dict[str, web.Application]:
    """`dependency` overrides DependencySettings fields in the callers (a mechanism off)."""

    def svc(name: str) -> ServiceSettings:
        return ServiceSettings(name, ports[name], control_token=TOKEN)

    def dep(name: str) -> DependencySettings:
        settings = DependencySettings(name, f"http://127.0.0.1:{ports[name]}")
        return dataclasses.replace(settings, **(dependency or {}))

    return {
        "catalog": catalog_app(CatalogSettings(svc("catalog"), size=2000)),
        "profiles": profiles_app(ProfilesSettings(svc("profiles"), db)),
        "recommendations": recommendations_app(
            RecommendationsSettings(svc("recommendations"), dep("profiles"), dep("catalog"))
        ),
        "playback": playback_app(
            PlaybackSettings(svc("playback"), dep("profiles"), dep("catalog"))
        ),
    }


async def start_stack(
    tmp_path: Path, dependency: Mapping[str, object] | None = None
) -> tuple[Stack, list[web.AppRunner]]:
    *service_ports, load_port = free_ports(len(SERVICES) + 1)
    ports = dict(zip(SERVICES, service_ports, strict=True))
    runners = []
    for name, app in build_apps(ports, tmp_path / "profiles.db", dependency).items():
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", ports[name]).start()
        runners.append(runner)
    return Stack(ports, load_port, aiohttp.ClientSession()), runners


@contextlib.asynccontextmanager
async def running_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """The four services up for the block, stopped after it."""
    started, runners = await start_stack(tmp_path)
    try:
        yield started
    finally:
        await started.session.close()
        for runner in reversed(runners):
            await runner.cleanup()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as started:
        yield started
