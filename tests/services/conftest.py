"""Upstreams for the services that call catalog and profiles, shared by the
recommendations and playback tests; all are real aiohttp apps on loopback.

Fakes: small apps, each with a switchable `mode`: "healthy", "error" (HTTP
500), "slow" (holds each request far beyond the client's per-try timeout,
until the fake is stopped); "down" is a closed port (`await fake.stop()`, or
`closed_port_url()` from the start).

Real upstreams (`real_upstreams`): the real catalog and profiles apps, made
to fail the way a chaos run would: "down" stops the server (its port is
closed), "slow" and "erroring" post a server-side rule to the app's own
fault control API (`/_chaos/faults`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler

from services.catalog.app import create_app as create_catalog
from services.catalog.data import generate_catalog
from services.catalog.settings import CatalogSettings
from services.common import DependencySettings, ServiceSettings
from services.profiles.app import create_app as create_profiles
from services.profiles.settings import ProfilesSettings
from services.vocabulary import REGIONS, Title

SLOW_S = 10.0  # "slow" holds a request this long at most (released at stop)
TIMEOUT_S = 0.5  # the clients' per-try timeout: 0.2 s failed a healthy loopback call once in CI

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
async def _switch(request: web.Request, handler: Handler) -> web.StreamResponse:
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
        breaker_min_calls=1000,
    )


@pytest.fixture
def fast_dependency() -> Callable[[str, str], DependencySettings]:
    """Dependency settings for tests: short timeouts, one attempt, a breaker that stays closed."""
    return _fast_dependency


REAL_CATALOG_SIZE = 500
CONTROL_TOKEN = "test-control-token"
# Server-side rules through the real apps' control API; the TTL outlives any test.
FAULT_RULES = {
    "slow": {"kind": "latency", "route": "*", "delay_ms": 1000, "ttl_s": 30},  # 2x TIMEOUT_S
    "erroring": {"kind": "error", "route": "*", "status": 500, "ttl_s": 30},
}
FAILURES = ("down", *FAULT_RULES)


@dataclass
class RealUpstreams:
    profiles: TestServer
    catalog: TestServer
    titles: tuple[Title, ...]  # what the real catalog serves, generated alike

    def url(self, name: str) -> str:
        return str(self._server(name).make_url("")).rstrip("/")

    def first_title(self, rating: str, region: str = "US") -> int:
        return next(
            t.id for t in self.titles if t.maturity_rating == rating and region in t.regions
        )

    async def fail(self, name: str, how: str) -> None:
        """Make the real `name` app down (its port closed), slow or erroring."""
        server = self._server(name)
        if how == "down":
            await server.close()
            return
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                server.make_url("/_chaos/faults"),
                json=FAULT_RULES[how],
                headers={"Authorization": f"Bearer {CONTROL_TOKEN}"},
            ) as response,
        ):
            assert response.status == 201, await response.text()

    def _server(self, name: str) -> TestServer:
        return {"profiles": self.profiles, "catalog": self.catalog}[name]


@pytest.fixture
async def real_upstreams(aiohttp_server: Any, tmp_path: Any) -> RealUpstreams:
    """The real catalog and profiles apps on ephemeral loopback ports, control API on."""
    catalog = await aiohttp_server(
        create_catalog(
            CatalogSettings(
                ServiceSettings("catalog", 0, control_token=CONTROL_TOKEN), size=REAL_CATALOG_SIZE
            )
        )
    )
    profiles = await aiohttp_server(
        create_profiles(
            ProfilesSettings(
                ServiceSettings("profiles", 0, control_token=CONTROL_TOKEN), tmp_path / "p.db"
            )
        )
    )
    return RealUpstreams(profiles, catalog, generate_catalog(REAL_CATALOG_SIZE))


@pytest.fixture(params=FAILURES)
def upstream_failure(request: pytest.FixtureRequest) -> str:
    """How a real upstream fails: each test that takes it runs once per way."""
    return str(request.param)
