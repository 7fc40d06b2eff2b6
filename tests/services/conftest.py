"""Fake upstreams for the services that call catalog and profiles: small real
aiohttp apps on loopback, shared by the recommendations and playback tests.

Each fake has a switchable `mode`: "healthy", "error" (HTTP 500), "slow"
(holds each request far beyond the client's per-try timeout, until
the fake is stopped); "down" is a
closed port (`await fake.stop()`, or `closed_port_url()` from the start).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.catalog.model import REGIONS, Title
from services.common import DependencySettings

SLOW_S = 10.0  # "slow" holds a request this long at most (released at stop)
TIMEOUT_S = 0.2  # the clients' per-try timeout: generous for a loaded machine

TITLES = (
    Title(1, "Family Fun", ("family", "animation"), "all", REGIONS, 90.0, 2020, 90),
    Title(2, "Night Terror", ("horror",), "18+", ("GB", "US"), 85.0, 2021, 100),
    Title(3, "Space Crime", ("sci-fi", "crime"), "13+", REGIONS, 80.0, 2019, 120),
    Title(4, "Tokyo Laughs", ("comedy",), "7+", ("JP",), 75.0, 2018, 30),
    Title(5, "Quiet Drama", ("drama",), "16+", REGIONS, 70.0, 2017, 110),
    Title(6, "Star Kids", ("sci-fi", "family"), "all", REGIONS, 65.0, 2022, 85),
    Title(7, "Deep Horror", ("horror",), "16+", REGIONS, 60.0, 2016, 95),
    Title(8, "Office Jokes", ("comedy",), "13+", REGIONS, 55.0, 2015, 25),
)


@dataclass
class Fake:
    server: TestServer
    mode: str = "healthy"
    calls: list[str] = field(default_factory=list)
    failing_paths: set[str] = field(default_factory=set)  # these answer 500 whatever the mode
    released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def stop(self) -> None:
        """Close the listening socket: from now on connections are refused."""
        self.released.set()
        await self.server.close()


@web.middleware
async def _switch(request: web.Request, handler: Any) -> web.StreamResponse:
    fake: Fake = request.app[FAKE]
    fake.calls.append(request.path)
    if fake.mode == "error" or request.path in fake.failing_paths:
        return web.json_response({"error": "injected by the fake"}, status=500)
    if fake.mode == "slow":
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fake.released.wait(), SLOW_S)
    return await handler(request)


FAKE = web.AppKey("fake", Fake)
PROFILES = web.AppKey("profiles", dict[str, dict[str, Any]])


def _titles(titles: list[Title]) -> web.Response:
    return web.json_response({"count": len(titles), "titles": [t.to_json() for t in titles]})


async def _title(request: web.Request) -> web.Response:
    wanted = int(request.match_info["id"])
    for title in TITLES:
        if title.id == wanted:
            return web.json_response(title.to_json())
    return web.json_response({"error": "no such title"}, status=404)


async def _by_genre(request: web.Request) -> web.Response:
    genre, limit = request.query.get("genre"), int(request.query.get("limit", "50"))
    found = [t for t in TITLES if genre is None or genre in t.genres]
    return _titles(sorted(found, key=lambda t: -t.popularity)[:limit])


async def _popular(request: web.Request) -> web.Response:
    region, limit = request.query.get("region"), int(request.query.get("limit", "50"))
    found = [t for t in TITLES if region is None or region in t.regions]
    return _titles(sorted(found, key=lambda t: -t.popularity)[:limit])


async def _profile(request: web.Request) -> web.Response:
    member = request.match_info["member"]
    if member == "m-garbled":
        return web.json_response({"member": member, "preferences": "?", "version": 1})
    prefs = {
        "maturity_level": "18+",
        "languages": ["en"],
        "subtitles": False,
        "favourite_genres": [],
        "autoplay": True,
    }
    stored = request.app[PROFILES].get(member)
    prefs.update(stored or {})
    return web.json_response({"member": member, "preferences": prefs, "version": int(bool(stored))})


async def _start_fake(app: web.Application) -> Fake:
    server = TestServer(app, host="127.0.0.1")
    fake = Fake(server)
    app[FAKE] = fake
    await server.start_server()
    return fake


@pytest.fixture
async def fake_catalog() -> Any:
    app = web.Application(middlewares=[_switch])
    app.router.add_get("/titles/{id}", _title)
    app.router.add_get("/titles", _by_genre)
    app.router.add_get("/popular", _popular)
    fake = await _start_fake(app)
    yield fake
    await fake.stop()


@pytest.fixture
async def fake_profiles() -> Any:
    app = web.Application(middlewares=[_switch])
    app[PROFILES] = {
        "m-horror": {"favourite_genres": ["horror", "comedy"], "maturity_level": "18+"},
        "m-kid": {"favourite_genres": ["family", "horror"], "maturity_level": "7+"},
    }
    app.router.add_get("/profiles/{member}", _profile)
    fake = await _start_fake(app)
    yield fake
    await fake.stop()


@pytest.fixture
def closed_url() -> str:
    """A loopback URL where nothing listens: a dependency that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _fast_dependency(name: str, url: str) -> DependencySettings:
    return DependencySettings(
        name=name,
        base_url=url,
        timeout_s=TIMEOUT_S,
        attempts=1,
        backoff_s=0.001,
        backoff_max_s=0.002,
        breaker_fail_max=1000,
    )


@pytest.fixture
def fast_dependency() -> Callable[[str, str], DependencySettings]:
    """Dependency settings for tests: short timeouts, one attempt, a breaker that stays closed."""
    return _fast_dependency
