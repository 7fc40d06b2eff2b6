"""The upstream-failure contract: retries happen once, at the hop nearest the failure.

A service that answers because its own dependency failed says so with
``X-Chaosbed-Upstream-Failure: <dependency>`` (and ``Retry-After``), and the
kit never retries such an answer, nor counts it against the breaker of the
hop that answered it. Proven through real hops on loopback:
member -> A -> B -> a dead leaf, counting the requests that reach the leaf.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient, AiohttpServer

from services.common import DEPENDENCIES, DependencyHTTPError, DependencySettings, UpstreamFailed
from services.common.upstream_failure import RETRY_AFTER_HEADER, UPSTREAM_FAILURE_HEADER

from .conftest import Caller, FakeClock, MakeCaller, Upstream

Client = TestClient[Any, Any]


def forward_to(dependency: str) -> Callable[[web.Application], None]:
    """Routes for a middle hop: GET /hop calls `dependency` and relays its
    answer; GET /own answers on its own, needing no dependency."""

    def routes(app: web.Application) -> None:
        async def hop(request: web.Request) -> web.Response:
            answer = await request.app[DEPENDENCIES][dependency].get("/hop")
            return web.json_response(answer.data, status=answer.status)

        async def own(request: web.Request) -> web.Response:
            return web.json_response({"own": True})

        app.router.add_get("/hop", hop)
        app.router.add_get("/own", own)

    return routes


async def two_hops(
    make_caller: MakeCaller,
    dep_settings: Callable[..., DependencySettings],
    leaf_url: str,
    **b_overrides: Any,
) -> tuple[Caller, Caller]:
    """member -> A -> B -> leaf, every hop a real kit app; returns (A, B)."""
    b = await make_caller(leaf_url, routes=forward_to("up"), **b_overrides)
    b_url = str(b.server.make_url("")).rstrip("/")
    a = await make_caller(dependencies=[dep_settings(b_url, name="b")], routes=forward_to("b"))
    return a, b


async def test_a_dependency_failure_answer_names_the_dependency_and_says_when_to_retry(
    make_caller: MakeCaller, upstream: Upstream, aiohttp_client: AiohttpClient
) -> None:
    upstream.status = 500
    b = await make_caller(upstream.url, routes=forward_to("up"))
    client: Client = await aiohttp_client(b.server)
    resp = await client.get("/hop")
    assert resp.status == 503
    assert resp.headers[UPSTREAM_FAILURE_HEADER] == "up"
    assert resp.headers[RETRY_AFTER_HEADER] == "1"


async def test_an_open_breaker_answer_says_retry_after_the_breaker_half_opens(
    make_caller: MakeCaller, upstream: Upstream, aiohttp_client: AiohttpClient
) -> None:
    upstream.status = 500
    b = await make_caller(
        upstream.url, routes=forward_to("up"), breaker_fail_max=1, breaker_reset_s=30.0
    )
    client: Client = await aiohttp_client(b.server)
    await client.get("/hop")  # trips the breaker
    resp = await client.get("/hop")
    assert resp.status == 503
    assert resp.headers[UPSTREAM_FAILURE_HEADER] == "up"
    assert 28 <= int(resp.headers[RETRY_AFTER_HEADER]) <= 30


async def test_a_5xx_naming_an_upstream_failure_is_not_retried(
    make_caller: MakeCaller, aiohttp_server: AiohttpServer
) -> None:
    hits: list[int] = []

    async def failing(request: web.Request) -> web.Response:
        hits.append(1)
        return web.json_response({}, status=503, headers={UPSTREAM_FAILURE_HEADER: "leaf"})

    app = web.Application()
    app.router.add_get("/hop", failing)
    server = await aiohttp_server(app)
    caller = await make_caller(str(server.make_url("")).rstrip("/"), attempts=3)

    with pytest.raises(UpstreamFailed) as caught:
        await caller.dep().get("/hop")

    assert hits == [1]
    assert (caught.value.status, caught.value.upstream) == (503, "leaf")
    assert isinstance(caught.value, DependencyHTTPError)
    assert caller.retries() == 0


async def test_one_member_request_reaches_a_dead_leaf_only_as_often_as_the_nearest_hop_tries(
    make_caller: MakeCaller,
    dep_settings: Callable[..., DependencySettings],
    upstream: Upstream,
    aiohttp_client: AiohttpClient,
) -> None:
    upstream.status = 503
    a, b = await two_hops(make_caller, dep_settings, upstream.url, attempts=3)
    member: Client = await aiohttp_client(a.server)

    resp = await member.get("/hop")

    assert resp.status == 503
    assert resp.headers[UPSTREAM_FAILURE_HEADER] == "b"
    assert upstream.hits == 3  # B's own tries; without the contract A would retry B: 9
    assert (a.retries("b"), b.retries("up")) == (0, 2)


async def test_a_breaker_open_two_hops_down_sends_nothing_more_to_the_leaf(
    make_caller: MakeCaller,
    dep_settings: Callable[..., DependencySettings],
    upstream: Upstream,
    aiohttp_client: AiohttpClient,
) -> None:
    upstream.status = 503
    a, b = await two_hops(
        make_caller, dep_settings, upstream.url, breaker_fail_max=1, breaker_reset_s=30.0
    )
    member: Client = await aiohttp_client(a.server)
    await member.get("/hop")  # B's breaker opens on the leaf's first failure
    hits_after_trip = upstream.hits

    for _ in range(3):
        resp = await member.get("/hop")
        assert resp.status == 503

    assert hits_after_trip == 1
    assert upstream.hits == 1
    assert a.retries("b") == 0


# -- what an upstream-failure answer means to the breaker ---------------------


async def test_a_hop_answering_that_its_own_dependency_failed_keeps_its_breaker_closed(
    make_caller: MakeCaller,
    dep_settings: Callable[..., DependencySettings],
    upstream: Upstream,
    aiohttp_client: AiohttpClient,
) -> None:
    upstream.status = 503
    b = await make_caller(upstream.url, routes=forward_to("up"), breaker_fail_max=1)
    b_url = str(b.server.make_url("")).rstrip("/")
    a = await make_caller(
        dependencies=[dep_settings(b_url, name="b", breaker_fail_max=2, breaker_min_calls=2)],
        routes=forward_to("b"),
    )
    member: Client = await aiohttp_client(a.server)

    for _ in range(10):
        assert (await member.get("/hop")).status == 503

    assert a.dep("b").breaker.current_state == "closed"
    assert b.dep("up").breaker.current_state == "open"  # the failure is judged where it is
    assert (a.outcome("upstream_failed", "b"), a.outcome("error", "b")) == (10, 0)
    assert (await a.dep("b").get("/own")).data == {"own": True}  # B still serves what it can


async def test_an_upstream_failure_answer_to_a_trial_call_closes_the_breaker(
    make_caller: MakeCaller, aiohttp_server: AiohttpServer, clock: FakeClock
) -> None:
    answers = [web.json_response({}, status=500)]  # B itself fails once: the breaker opens

    async def hop(request: web.Request) -> web.Response:
        if answers:
            return answers.pop(0)
        return web.json_response({}, status=503, headers={UPSTREAM_FAILURE_HEADER: "leaf"})

    app = web.Application()
    app.router.add_get("/hop", hop)
    server = await aiohttp_server(app)
    caller = await make_caller(
        str(server.make_url("")).rstrip("/"), attempts=1, breaker_fail_max=1, breaker_reset_s=0.05,
        clock=clock,
    )  # fmt: skip
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/hop")
    assert caller.dep().breaker.current_state == "open"
    clock.advance(0.05)

    with pytest.raises(UpstreamFailed):
        await caller.dep().get("/hop")  # the trial: B is back and answering

    assert caller.dep().breaker.current_state == "closed"
    assert caller.breaker_state() == 0
