"""Server middlewares: request metrics by route template and cohort, errors as
JSON, dependency failures as 503, dropped connections counted as such."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from services.common import DependencyUnavailable, json_error
from services.common.context import COHORT_HEADER, DEADLINE_HEADER

from .conftest import Caller, MakeCaller

Client = TestClient[Any, Any]


def routes(app: web.Application) -> None:
    async def title(request: web.Request) -> web.Response:
        return web.json_response({"id": request.match_info["id"]})

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    async def needs_profiles(request: web.Request) -> web.Response:
        raise DependencyUnavailable("profiles", "connection refused")

    async def bad_request(request: web.Request) -> web.Response:
        raise web.HTTPBadRequest(reason="member id is malformed")

    async def teapot(request: web.Request) -> web.Response:
        return json_error(418, "short and stout", hint="tip me over")

    app.router.add_get("/titles/{id}", title)
    app.router.add_get("/broken", broken)
    app.router.add_get("/needs-profiles", needs_profiles)
    app.router.add_get("/bad", bad_request)
    app.router.add_get("/teapot", teapot)


@pytest.fixture
async def server(make_caller: MakeCaller) -> Caller:
    return await make_caller(routes=routes)


@pytest.fixture
async def client(server: Caller, aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(server.server)


def requests_total(
    server: Caller, route: str, status: str, method: str = "GET", cohort: str = "none"
) -> float:
    return server.sample(
        "chaosbed_http_requests_total", route=route, method=method, status=status, cohort=cohort
    )


async def test_requests_are_counted_by_route_template_method_status_and_cohort(
    server: Caller, client: Client
) -> None:
    await client.get("/titles/42", headers={COHORT_HEADER: "experiment"})
    await client.get("/titles/43", headers={COHORT_HEADER: "experiment"})
    await client.get("/titles/44")

    assert requests_total(server, "/titles/{id}", "200", cohort="experiment") == 2
    assert requests_total(server, "/titles/{id}", "200", cohort="none") == 1


async def test_request_metrics_never_carry_an_id_as_a_label(client: Client) -> None:
    for i in range(5):
        await client.get(f"/titles/{i}", headers={"X-Request-Id": f"req-{i}"})
    await client.get("/no/such/route/7")

    metrics_text = await (await client.get("/metrics")).text()
    lines = [x for x in metrics_text.splitlines() if x.startswith("chaosbed_http_")]
    assert lines
    assert not any("req-" in x or "/titles/3" in x or "/route/7" in x for x in lines)


async def test_an_unusual_http_method_is_counted_as_other_never_as_its_own_label(
    server: Caller, client: Client
) -> None:
    for method in ("PROPFIND", "PURGE", "MKCOL"):
        await client.request(method, "/titles/1")

    metrics_text = await (await client.get("/metrics")).text()
    assert not any(method in metrics_text for method in ("PROPFIND", "PURGE", "MKCOL"))
    assert requests_total(server, "unmatched", "405", method="other") == 3


async def test_request_duration_is_observed_with_the_same_labels(
    server: Caller, client: Client
) -> None:
    await client.get("/titles/1")

    count = server.sample(
        "chaosbed_http_request_duration_seconds_count",
        route="/titles/{id}",
        method="GET",
        status="200",
        cohort="none",
    )
    assert count == 1


async def test_an_unknown_route_is_a_json_404_counted_as_unmatched(
    server: Caller, client: Client
) -> None:
    resp = await client.get("/no/such/route")

    assert resp.status == 404
    assert (await resp.json())["status"] == 404
    assert requests_total(server, "unmatched", "404") == 1


async def test_a_dependency_failure_is_a_json_503_naming_the_dependency(
    server: Caller, client: Client
) -> None:
    resp = await client.get("/needs-profiles")

    assert resp.status == 503
    assert (await resp.json())["dependency"] == "profiles"
    assert requests_total(server, "/needs-profiles", "503") == 1


async def test_an_unhandled_error_is_a_json_500_and_is_logged(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    resp = await client.get("/broken")

    assert resp.status == 500
    assert (await resp.json())["error"] == "internal error"
    assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)


async def test_an_http_error_raised_by_a_handler_is_answered_as_json(client: Client) -> None:
    resp = await client.get("/bad")

    assert resp.status == 400
    assert (await resp.json())["error"] == "member id is malformed"


async def test_a_json_error_from_a_handler_passes_through_unchanged(client: Client) -> None:
    resp = await client.get("/teapot")

    assert resp.status == 418
    assert await resp.json() == {"error": "short and stout", "status": 418, "hint": "tip me over"}


async def test_a_shed_request_is_counted_as_504(server: Caller, client: Client) -> None:
    await client.get("/titles/1", headers={DEADLINE_HEADER: "0"})

    assert requests_total(server, "/titles/{id}", "504") == 1


async def test_a_dropped_connection_is_counted_as_dropped(
    server: Caller, client: Client, control_headers: dict[str, str]
) -> None:
    rule = {"kind": "drop", "route": "/titles/{id}"}
    assert (await client.post("/_chaos/faults", json=rule, headers=control_headers)).status == 201

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.get("/titles/1")

    assert requests_total(server, "/titles/{id}", "dropped") == 1
