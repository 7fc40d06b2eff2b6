"""The kit's part of every service app: health, readiness, metrics, and the
Dependency clients opened and closed with the app."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from services.common import DEPENDENCIES, READY_CHECKS
from services.common.fault_rules import KINDS

from .conftest import MakeCaller, Upstream

Client = TestClient[Any, Any]


async def test_healthz_says_ok_with_the_service_name(
    make_caller: MakeCaller, aiohttp_client: AiohttpClient
) -> None:
    client: Client = await aiohttp_client((await make_caller()).server)

    resp = await client.get("/healthz")

    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "service": "caller"}


async def test_readyz_is_ready_once_started_with_every_check_passing(
    make_caller: MakeCaller, aiohttp_client: AiohttpClient
) -> None:
    client: Client = await aiohttp_client((await make_caller()).server)

    resp = await client.get("/readyz")

    assert resp.status == 200
    assert await resp.json() == {"ready": True, "service": "caller", "failing": []}


async def test_readyz_is_503_naming_a_failing_check(
    make_caller: MakeCaller, aiohttp_client: AiohttpClient
) -> None:
    def database_open() -> bool:
        return False

    caller = await make_caller(routes=lambda app: app[READY_CHECKS].append(database_open))
    client: Client = await aiohttp_client(caller.server)

    resp = await client.get("/readyz")

    assert resp.status == 503
    assert (await resp.json())["failing"] == ["database_open"]


async def test_metrics_expose_every_dependency_series_at_zero_from_the_start(
    make_caller: MakeCaller, upstream: Upstream, aiohttp_client: AiohttpClient
) -> None:
    caller = await make_caller(upstream.url)
    client: Client = await aiohttp_client(caller.server)

    resp = await client.get("/metrics")
    text = await resp.text()

    assert resp.headers["Content-Type"].startswith("text/plain")
    outcomes = ("success", "error", "timeout", "rejected", "short_circuited", "budget_exhausted")
    for outcome in outcomes:
        labels = f'dependency="up",outcome="{outcome}",service="caller"'
        assert f"chaosbed_dependency_calls_total{{{labels}}} 0.0" in text
    assert 'chaosbed_retries_total{dependency="up",service="caller"} 0.0' in text
    for kind in KINDS:
        assert f'chaosbed_faults_active{{kind="{kind}",service="caller"}} 0.0' in text


async def test_dependencies_open_with_the_app_and_close_with_it(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    caller = await make_caller(upstream.url)
    dependency = caller.dep()
    assert (await dependency.get("/x")).status == 200

    await caller.server.close()

    assert caller.app[DEPENDENCIES] == {}
    assert dependency._session.closed
