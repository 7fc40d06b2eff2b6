"""Upstreams for the load generator tests: real aiohttp apps on loopback.

`upstream` is one small app answering on the four journeys' routes; a test
sets how it answers (`status`, `delay`, a `stall_until` point on the loop
clock before which every request waits) and reads what it received.
`real_stack` is the four real services (create_app) wired to each other.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from chaos.load import Targets
from services.catalog.app import create_app as create_catalog
from services.catalog.settings import CatalogSettings
from services.common import DependencySettings, ServiceSettings
from services.playback.app import create_app as create_playback
from services.playback.settings import PlaybackSettings
from services.profiles.app import create_app as create_profiles
from services.profiles.settings import ProfilesSettings
from services.recommendations.app import create_app as create_recommendations
from services.recommendations.settings import RecommendationsSettings

REAL_CATALOG_SIZE = 500


@dataclass
class Received:
    method: str
    path: str
    headers: CIMultiDict[str]
    body: Any
    peer: Any = None  # the connection's (address, port) as the upstream saw it


@dataclass
class Upstream:
    server: TestServer
    status: int = 200
    delay: float = 0.0
    stall_until: float = 0.0
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def targets(self) -> Targets:
        return Targets(self.url, self.url, self.url, self.url)


UPSTREAM = web.AppKey("upstream", Upstream)


async def _answer(request: web.Request) -> web.Response:
    upstream = request.app[UPSTREAM]
    body = await request.json() if request.can_read_body else None
    upstream.received.append(
        Received(
            request.method,
            request.path,
            CIMultiDict(request.headers),
            body,
            request.transport.get_extra_info("peername") if request.transport else None,
        )
    )
    wait = max(upstream.delay, upstream.stall_until - asyncio.get_running_loop().time())
    if wait > 0:
        await asyncio.sleep(wait)
    return web.json_response({"path": request.path}, status=upstream.status)


@pytest.fixture
async def upstream() -> Any:
    app = web.Application()
    app.router.add_get("/recommendations/{member}", _answer)
    app.router.add_post("/playback/start", _answer)
    app.router.add_get("/titles/{id}", _answer)
    app.router.add_patch("/profiles/{member}", _answer)
    server = TestServer(app, host="127.0.0.1")
    fake = Upstream(server)
    app[UPSTREAM] = fake
    await server.start_server()
    yield fake
    await server.close()


@pytest.fixture
def closed_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_real_stack(tmp_path: Path) -> tuple[Targets, list[TestServer]]:
    """The four real services on free loopback ports, calling each other."""
    ports = {name: free_port() for name in ("catalog", "profiles", "recommendations", "playback")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}

    def service(name: str) -> ServiceSettings:
        return ServiceSettings(name, ports[name])

    def dependency(name: str) -> DependencySettings:
        return DependencySettings(name, urls[name])

    apps = [
        create_catalog(CatalogSettings(service("catalog"), size=REAL_CATALOG_SIZE)),
        create_profiles(ProfilesSettings(service("profiles"), tmp_path / "profiles.db")),
        create_recommendations(
            RecommendationsSettings(
                service("recommendations"), dependency("profiles"), dependency("catalog")
            )
        ),
        create_playback(
            PlaybackSettings(service("playback"), dependency("profiles"), dependency("catalog"))
        ),
    ]
    servers = []
    for app, port in zip(apps, ports.values(), strict=True):
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
        servers.append(server)
    targets = Targets(
        catalog=urls["catalog"],
        recommendations=urls["recommendations"],
        playback=urls["playback"],
        profiles=urls["profiles"],
    )
    return targets, servers


@pytest.fixture
async def real_stack(tmp_path: Path) -> Any:
    targets, servers = await start_real_stack(tmp_path)
    yield targets
    for server in reversed(servers):
        await server.close()
