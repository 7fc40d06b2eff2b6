"""Deadlines: the remaining budget travels downstream in X-Deadline-Ms and
shrinks hop by hop; expired work is shed; a try never outlives the deadline."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from services.common import (
    DEPENDENCIES,
    DeadlineExceeded,
    DependencyTimeout,
    ServiceSettings,
    create_service_app,
)
from services.common.context import DEADLINE_HEADER, RequestContext, bound

HOP_WORK_S = 0.02


def hop_app(name: str, seen: dict[str, int], dependencies=()) -> web.Application:
    """A service that records the budget it was given, works a little, and
    forwards to its next hop (if any) through the kit's Dependency."""
    app = create_service_app(ServiceSettings(name=name, port=0), dependencies=dependencies)

    async def handle(request: web.Request) -> web.Response:
        seen[name] = int(request.headers[DEADLINE_HEADER])
        await asyncio.sleep(HOP_WORK_S)
        for dep in request.app[DEPENDENCIES].values():
            await dep.get("/work")
        return web.json_response({"hop": name})

    app.router.add_get("/work", handle)
    return app


async def test_deadline_shrinks_hop_by_hop(aiohttp_server, aiohttp_client, dep_settings):
    seen: dict[str, int] = {}
    leaf = await aiohttp_server(hop_app("leaf", seen))
    mid_url = str(leaf.make_url("")).rstrip("/")
    mid = await aiohttp_server(hop_app("mid", seen, [dep_settings(mid_url, name="leaf")]))
    edge_url = str(mid.make_url("")).rstrip("/")
    edge = await aiohttp_server(hop_app("edge", seen, [dep_settings(edge_url, name="mid")]))
    client = await aiohttp_client(edge)

    resp = await client.get("/work", headers={DEADLINE_HEADER: "1000"})

    assert resp.status == 200
    work_ms = int(HOP_WORK_S * 1000)
    assert seen["edge"] == 1000
    assert 0 < seen["mid"] <= seen["edge"] - work_ms
    assert 0 < seen["leaf"] <= seen["mid"] - work_ms


async def test_an_inbound_deadline_over_the_services_cap_is_clamped(
    aiohttp_server, aiohttp_client, upstream, dep_settings
):
    app = create_service_app(
        ServiceSettings(name="capped", port=0, max_deadline_ms=3000),
        dependencies=[dep_settings(upstream.url)],
    )

    async def forward(request: web.Request) -> web.Response:
        await request.app[DEPENDENCIES]["up"].get("/x")
        return web.json_response({})

    app.router.add_get("/forward", forward)
    client = await aiohttp_client(await aiohttp_server(app))

    resp = await client.get("/forward", headers={DEADLINE_HEADER: "86400000"})

    assert resp.status == 200
    assert 2000 < int(upstream.requests[0]["headers"][DEADLINE_HEADER]) <= 3000


async def test_a_request_without_a_deadline_gets_the_default_budget_downstream(
    make_caller, upstream, aiohttp_client
):
    async def forward(request: web.Request) -> web.Response:
        await request.app[DEPENDENCIES]["up"].get("/x")
        return web.json_response({})

    caller = await make_caller(
        upstream.url,
        default_deadline_ms=800,
        routes=lambda app: app.router.add_get("/forward", forward),
    )
    client = await aiohttp_client(caller.server)

    await client.get("/forward")

    assert 400 < int(upstream.requests[0]["headers"][DEADLINE_HEADER]) < 800


@pytest.mark.parametrize("budget", ["0", "-5"])
async def test_a_request_whose_deadline_has_passed_is_shed_with_504_and_its_handler_never_runs(
    make_caller, aiohttp_client, budget
):
    ran = []

    async def handler(request: web.Request) -> web.Response:
        ran.append(request.path)
        return web.json_response({})

    caller = await make_caller(routes=lambda app: app.router.add_get("/work", handler))
    client = await aiohttp_client(caller.server)

    resp = await client.get("/work", headers={DEADLINE_HEADER: budget})

    assert resp.status == 504
    assert "deadline" in (await resp.json())["error"]
    assert ran == []


async def test_health_metrics_and_control_routes_are_never_shed(make_caller, aiohttp_client):
    caller = await make_caller(token="t")
    client = await aiohttp_client(caller.server)
    expired = {DEADLINE_HEADER: "0", "Authorization": "Bearer t"}

    statuses = [
        (await client.get(path, headers=expired)).status
        for path in ("/healthz", "/readyz", "/metrics", "/_chaos/faults")
    ]

    assert statuses == [200, 200, 200, 200]


async def test_per_try_timeout_is_capped_by_the_remaining_deadline(make_caller, upstream):
    upstream.delay_s = 2.0
    caller = await make_caller(upstream.url, timeout_s=5.0, attempts=1)
    ctx = RequestContext(request_id="r", cohort="none", deadline=time.monotonic() + 0.1)

    started = time.monotonic()
    with bound(ctx), pytest.raises(DependencyTimeout):
        await caller.dep().get("/slow")

    assert time.monotonic() - started < 1.0  # the deadline (0.1 s), not timeout_s (5 s)
    assert upstream.hits == 1


async def test_retries_stop_when_the_deadline_has_no_room_for_them(make_caller, upstream):
    upstream.delay_s = 2.0
    caller = await make_caller(upstream.url, timeout_s=5.0, attempts=5, backoff_s=0.05)
    ctx = RequestContext(request_id="r", cohort="none", deadline=time.monotonic() + 0.1)

    started = time.monotonic()
    with bound(ctx), pytest.raises(DependencyTimeout):
        await caller.dep().get("/slow")

    assert time.monotonic() - started < 1.0
    assert upstream.hits == 1
    assert caller.retries() == 0


async def test_a_call_made_after_the_deadline_raises_deadline_exceeded_without_sending(
    make_caller, upstream
):
    caller = await make_caller(upstream.url)
    ctx = RequestContext(request_id="r", cohort="none", deadline=time.monotonic() - 0.01)

    with bound(ctx), pytest.raises(DeadlineExceeded):
        await caller.dep().get("/late")

    assert upstream.hits == 0
    assert caller.outcome("deadline") == 1  # the caller's deadline, not a timeout of the dependency
    assert caller.retries() == 0
