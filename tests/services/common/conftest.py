"""Fixtures for the resilience kit's tests: real aiohttp apps on loopback.

- `upstream`: a fake dependency, a real small aiohttp app whose behaviour a
  test switches (status, a scripted sequence of statuses, a delay, a gate
  that holds requests) and which records every request it receives.
- `closed_port`: the URL of a port on 127.0.0.1 that refuses connections
  (bound, never listening, so no other test can take it meanwhile).
- `make_caller`: a service built on the kit (`create_service_app`) with one
  `Dependency` per `DependencySettings`, started on loopback.
- `clock`: a fake monotonic clock that only moves when a test says so.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from services.common import (
    DEPENDENCIES,
    METRICS,
    Dependency,
    DependencySettings,
    FaultRegistry,
    ServiceSettings,
    create_service_app,
)

TOKEN = "s3cret-token"
CALLER = "caller"
UPSTREAM = "up"


class FakeClock:
    """A monotonic clock for injection: time moves only with `advance`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Upstream:
    """A fake dependency: answers `status` (or the next of `script`), after
    `delay_s`, and, while `gate` is closed, holds every request at the door."""

    status: int = 200
    script: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    server: TestServer | None = None

    def __post_init__(self) -> None:
        self.gate.set()

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    @property
    def hits(self) -> int:
        return len(self.requests)

    def hold(self) -> None:
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    async def wait_for_hits(self, n: int, timeout: float = 2.0) -> None:
        async with asyncio.timeout(timeout), self.arrived:
            await self.arrived.wait_for(lambda: self.hits >= n)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "headers": CIMultiDict(request.headers),  # names case-insensitive
                "body": await request.text(),
            }
        )
        async with self.arrived:
            self.arrived.notify_all()
        await self._wait(self.gate.wait(), None)
        if self.delay_s:
            await self._wait(self.stopping.wait(), self.delay_s)
        status = self.script.pop(0) if self.script else self.status
        return web.json_response({"path": request.path, "hit": self.hits}, status=status)

    async def _wait(self, event_wait: Awaitable[Any], timeout: float | None) -> None:
        """Wait for an event (or `timeout`), but never past the test's end."""
        stop = asyncio.ensure_future(self.stopping.wait())
        other = asyncio.ensure_future(event_wait)
        try:
            await asyncio.wait({stop, other}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            other.cancel()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def upstream(aiohttp_server: Any) -> AsyncIterator[Upstream]:
    fake = Upstream()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    fake.server = await aiohttp_server(app)
    yield fake
    fake.stopping.set()  # let held and slow requests finish before the server closes


@pytest.fixture
def closed_port() -> Iterator[str]:
    """A URL whose port refuses connections: bound but never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def dependency_settings(url: str, name: str = UPSTREAM, **overrides: Any) -> DependencySettings:
    """Fast, test-sized defaults: tiny backoff, a breaker that stays out of
    the way unless a test lowers `breaker_fail_max`."""
    values: dict[str, Any] = {
        "timeout_s": 1.0,
        "attempts": 3,
        "backoff_s": 0.001,
        "backoff_max_s": 0.002,
        "breaker_fail_max": 1000,
        "breaker_min_calls": 1000,
        "breaker_reset_s": 0.2,
        "bulkhead_size": 32,
    }
    values.update(overrides)
    return DependencySettings(name=name, base_url=url, **values)


@dataclass
class Caller:
    """A started service app built on the kit, and views of its internals."""

    app: web.Application
    server: TestServer

    def dep(self, name: str = UPSTREAM) -> Dependency:
        return self.app[DEPENDENCIES][name]

    def sample(self, metric: str, **labels: str) -> float:
        value = self.app[METRICS].registry.get_sample_value(metric, {"service": CALLER, **labels})
        return 0.0 if value is None else value

    def outcome(self, outcome: str, dependency: str = UPSTREAM) -> float:
        return self.sample(
            "chaosbed_dependency_calls_total", dependency=dependency, outcome=outcome
        )

    def retries(self, dependency: str = UPSTREAM) -> float:
        return self.sample("chaosbed_retries_total", dependency=dependency)

    def breaker_state(self, dependency: str = UPSTREAM) -> float:
        return self.sample("chaosbed_circuit_breaker_state", dependency=dependency)


MakeCaller = Callable[..., Awaitable[Caller]]


@pytest.fixture
def dep_settings() -> Callable[..., DependencySettings]:
    """`dep_settings(url, name="up", **overrides)`: test-sized DependencySettings."""
    return dependency_settings


@pytest.fixture
def make_caller(aiohttp_server: Any) -> MakeCaller:
    """`await make_caller(url, **overrides)`: a started service "caller" with one
    dependency "up" at `url`; or `make_caller(dependencies=[...])` for several.
    `clock` (e.g. the `clock` fixture) runs its breakers and retry budgets."""

    async def make(
        url: str | None = None,
        *,
        dependencies: Sequence[DependencySettings] = (),
        token: str | None = TOKEN,
        faults: FaultRegistry | None = None,
        routes: Callable[[web.Application], None] | None = None,
        default_deadline_ms: int = 2000,
        mutant: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        **overrides: Any,
    ) -> Caller:
        if url is not None:
            dependencies = [dependency_settings(url, **overrides), *dependencies]
        settings = ServiceSettings(
            name=CALLER,
            port=0,
            control_token=token,
            default_deadline_ms=default_deadline_ms,
            mutant=mutant,
        )
        app = create_service_app(settings, dependencies=dependencies, faults=faults, clock=clock)
        if routes is not None:
            routes(app)
        server = await aiohttp_server(app)
        return Caller(app, server)

    return make


@pytest.fixture
def control_headers() -> dict[str, str]:
    """The bearer token header that `make_caller` services accept."""
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def seeded_faults(clock: FakeClock) -> FaultRegistry:
    """A fault registry on the fake clock with a seeded random source."""
    return FaultRegistry(clock=clock, rng=random.Random(1234))
