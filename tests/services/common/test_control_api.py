"""The fault control API, /_chaos/faults: bearer token, validation, add/list/delete.

Whatever a client sends, the answer is never a 500: a missing or wrong token
is a 401, an invalid rule a 400 that names the field.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpClient

from services.common import FAULTS, FaultRegistry
from services.common.fault_rules import KINDS

from .conftest import FakeClock, MakeCaller, Upstream

Client = TestClient[Any, Any]

CONTROL_ROUTES = [
    ("GET", "/_chaos/faults"),
    ("POST", "/_chaos/faults"),
    ("DELETE", "/_chaos/faults"),
    ("DELETE", "/_chaos/faults/abc123"),
]
DROP_POPULAR = {"kind": "drop", "route": "/popular"}


def popular_route(app: web.Application) -> None:
    async def popular(request: web.Request) -> web.Response:
        return web.json_response({"titles": []})

    app.router.add_get("/popular", popular)


@pytest.fixture
async def client(
    make_caller: MakeCaller, upstream: Upstream, aiohttp_client: AiohttpClient
) -> Client:
    caller = await make_caller(upstream.url, routes=popular_route)
    return await aiohttp_client(caller.server)


async def raw_request(client: Client, head: bytes, body: bytes = b"") -> int:
    """Send bytes no well-behaved client would, and read back the status."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])


# -- the token ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), CONTROL_ROUTES)
async def test_a_request_without_the_token_is_refused_with_401(
    client: Client, method: str, path: str
) -> None:
    resp = await client.request(method, path, json=DROP_POPULAR)

    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.app[FAULTS].active() == []


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong",
        "Bearer s3cret-token-and-more",
        "Bearer ",
        "Basic s3cret-token",
        "s3cret-token",
    ],
)
@pytest.mark.parametrize(("method", "path"), CONTROL_ROUTES)
async def test_a_request_with_a_wrong_token_is_refused_with_401(
    client: Client, method: str, path: str, authorization: str
) -> None:
    resp = await client.request(
        method, path, json=DROP_POPULAR, headers={"Authorization": authorization}
    )

    assert resp.status == 401
    assert "token" in (await resp.json())["error"]


async def test_the_scheme_is_case_insensitive(client: Client) -> None:
    resp = await client.get("/_chaos/faults", headers={"Authorization": "bearer s3cret-token"})

    assert resp.status == 200


async def test_a_caller_s_token_passed_on_by_a_proxy_that_took_authorization_is_accepted(
    client: Client,
) -> None:
    taken = {"Authorization": "Bearer the-proxy-s-own-token"}
    passed_on = {**taken, "X-Forwarded-Authorization": "Bearer s3cret-token"}
    wrong = {**taken, "X-Forwarded-Authorization": "Bearer wrong"}

    assert (await client.get("/_chaos/faults", headers=passed_on)).status == 200
    assert (await client.get("/_chaos/faults", headers=wrong)).status == 401
    assert (await client.get("/_chaos/faults", headers=taken)).status == 401


async def test_a_token_with_bytes_that_are_not_utf8_is_refused_with_401_not_500(
    client: Client,
) -> None:
    head = b"GET /_chaos/faults HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n"

    assert await raw_request(client, head) == 401


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.binary(max_size=60).filter(lambda b: not set(b) & set(b"\r\n\x00")))
async def test_any_authorization_header_is_refused_and_never_a_500(
    client: Client, value: bytes
) -> None:
    head = b"GET /_chaos/faults HTTP/1.1\r\nHost: x\r\nAuthorization: " + value + b"\r\n"

    assert await raw_request(client, head) in (400, 401)


async def test_with_no_token_configured_the_control_api_is_off(
    make_caller: MakeCaller, aiohttp_client: AiohttpClient, control_headers: dict[str, str]
) -> None:
    caller = await make_caller(token=None)
    client: Client = await aiohttp_client(caller.server)

    for method, path in CONTROL_ROUTES:
        resp = await client.request(method, path, json=DROP_POPULAR, headers=control_headers)
        assert resp.status == 404
        assert "control API is off" in (await resp.json())["error"]


async def test_with_no_token_configured_the_service_says_so_in_its_log(
    make_caller: MakeCaller, caplog: pytest.LogCaptureFixture
) -> None:
    await make_caller(token=None)

    assert any("control API is off" in r.getMessage() for r in caplog.records)


# -- validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "drop"}, "route"),
        ({"kind": "flood", "route": "/popular"}, "kind"),
        ({"kind": "drop", "route": "/nope"}, "route"),
        ({"kind": "drop", "edge": "caller -> nope"}, "edge"),
        ({"kind": "error", "route": "/popular", "status": 200}, "status"),
        ({"kind": "drop", "route": "/popular", "percent": 150}, "percent"),
        ({"kind": "drop", "route": "/popular", "ttl_s": -1}, "ttl_s"),
        ({"kind": "drop", "route": "/popular", "why": "x"}, "why"),
        ({"kind": "drop", "route": "/popular", "method": "FETCH"}, "method"),
        ({"kind": "latency", "route": "/popular", "delay_ms": 0.5}, "delay_ms"),
        ({"kind": "drop", "route": "/popular", "status": 500}, "status"),
        ({"kind": "drop", "route": "/popular", "tag": "run 1"}, "tag"),
        ([DROP_POPULAR], "body"),
    ],
)
async def test_an_invalid_rule_gets_400_naming_the_field(
    client: Client, control_headers: dict[str, str], body: Any, field: str
) -> None:
    resp = await client.post("/_chaos/faults", json=body, headers=control_headers)

    assert resp.status == 400
    answer = await resp.json()
    assert answer["field"] == field
    assert field in answer["error"]


@pytest.mark.parametrize("route", ["/healthz", "/readyz", "/metrics", "/_chaos/faults"])
async def test_a_rule_on_a_route_that_is_never_faulted_gets_400(
    client: Client, control_headers: dict[str, str], route: str
) -> None:
    resp = await client.post(
        "/_chaos/faults", json={"kind": "error", "route": route}, headers=control_headers
    )

    assert resp.status == 400
    assert (await resp.json())["field"] == "route"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/json"),
        (b"{not json", "application/json"),
        (b'{"kind": "drop", "route": "/popular"', "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"kind": "drop", "route": "/popular"}', "application/json; charset=no-such-charset"),
    ],
    ids=["empty", "garbage", "truncated", "not-utf8", "nested-too-deep", "unknown-charset"],
)
async def test_a_body_that_is_not_json_gets_400_naming_the_body(
    client: Client, control_headers: dict[str, str], body: bytes, content_type: str
) -> None:
    resp = await client.post(
        "/_chaos/faults", data=body, headers={**control_headers, "Content-Type": content_type}
    )

    assert resp.status == 400
    assert (await resp.json())["field"] == "body"


async def test_a_body_over_the_size_limit_gets_400_naming_the_body(
    client: Client, control_headers: dict[str, str]
) -> None:
    body = b'{"kind": "drop", "route": "/popular", "tag": "' + b"x" * (1024 * 1024) + b'"}'

    resp = await client.post(
        "/_chaos/faults",
        data=io.BytesIO(body),
        headers={**control_headers, "Content-Type": "application/json"},
    )

    assert resp.status == 400
    assert (await resp.json())["field"] == "body"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=12,
)
RULE_LIKE_FIELDS = {
    "route": st.sampled_from(["*", "/popular", "/healthz"]) | JSON,
    "edge": st.sampled_from(["caller -> up", "up"]) | JSON,
    "method": JSON,
    "cohort": st.sampled_from(["experiment", "control", "any"]) | JSON,
    "percent": st.integers(-5, 105) | JSON,
    "delay_ms": st.integers(-5, 61_000) | JSON,
    "jitter_ms": JSON,
    "status": st.integers(0, 700) | JSON,
    "ttl_s": st.floats(-1, 4000) | JSON,
    "tag": JSON,
}
RULE_LIKE = st.fixed_dictionaries(
    {"kind": st.sampled_from(list(KINDS)) | JSON},
    optional=RULE_LIKE_FIELDS,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON | RULE_LIKE)
async def test_any_json_body_gets_201_or_400_naming_a_field_never_500(
    client: Client, control_headers: dict[str, str], body: Any
) -> None:
    resp = await client.post("/_chaos/faults", json=body, headers=control_headers)

    assert resp.status in (201, 400)
    answer = await resp.json()
    if resp.status == 400:  # a known field, the body itself, or the unknown key it names
        known = {"kind", "body", *RULE_LIKE_FIELDS}
        assert answer["field"] in known or answer["field"] in body
    else:
        assert answer["kind"] in KINDS


# -- add, list, delete -------------------------------------------------------


async def add(client: Client, headers: dict[str, str], **body: Any) -> Any:
    resp = await client.post("/_chaos/faults", json=body, headers=headers)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def test_an_added_rule_is_listed_with_its_id_and_remaining_ttl(
    client: Client, control_headers: dict[str, str]
) -> None:
    created = await add(client, control_headers, kind="latency", route="/popular", delay_ms=5)

    listed = await (await client.get("/_chaos/faults", headers=control_headers)).json()

    assert created["id"]
    assert 59 < created["remaining_s"] <= 60
    assert [r["id"] for r in listed["faults"]] == [created["id"]]
    assert listed["faults"][0]["kind"] == "latency"


async def test_an_added_rule_takes_effect(client: Client, control_headers: dict[str, str]) -> None:
    await add(client, control_headers, kind="error", route="/popular", status=500)

    assert (await client.get("/popular")).status == 500


async def test_delete_one_removes_that_rule_only(
    client: Client, control_headers: dict[str, str]
) -> None:
    one = await add(client, control_headers, kind="error", route="/popular", status=500)
    other = await add(client, control_headers, kind="drop", edge="caller -> up")

    resp = await client.delete(f"/_chaos/faults/{one['id']}", headers=control_headers)

    assert resp.status == 200
    assert (await resp.json()) == {"removed": one["id"]}
    assert [r.id for r in client.app[FAULTS].active()] == [other["id"]]
    assert (await client.get("/popular")).status == 200


async def test_delete_of_an_unknown_rule_is_404(
    client: Client, control_headers: dict[str, str]
) -> None:
    resp = await client.delete("/_chaos/faults/no-such-rule", headers=control_headers)

    assert resp.status == 404
    assert "no-such-rule" in (await resp.json())["error"]


async def test_delete_all_halts_every_rule(client: Client, control_headers: dict[str, str]) -> None:
    for _ in range(3):
        await add(client, control_headers, kind="drop", route="/popular")

    resp = await client.delete("/_chaos/faults", headers=control_headers)

    assert (await resp.json()) == {"removed": 3}
    assert client.app[FAULTS].active() == []
    assert (await client.get("/popular")).status == 200


async def test_delete_all_with_a_tag_removes_only_the_tagged_rules(
    client: Client, control_headers: dict[str, str]
) -> None:
    await add(client, control_headers, kind="drop", route="/popular", tag="exp-1")
    await add(client, control_headers, kind="hang", route="/popular", tag="exp-1")
    kept = await add(client, control_headers, kind="drop", edge="caller -> up", tag="exp-2")

    resp = await client.delete("/_chaos/faults?tag=exp-1", headers=control_headers)

    assert (await resp.json()) == {"removed": 2}
    assert [r.id for r in client.app[FAULTS].active()] == [kept["id"]]


async def test_delete_with_an_empty_tag_is_refused_and_removes_nothing(
    client: Client, control_headers: dict[str, str]
) -> None:
    await add(client, control_headers, kind="drop", route="/popular", tag="exp-1")
    await add(client, control_headers, kind="drop", route="/popular")

    resp = await client.delete("/_chaos/faults?tag=", headers=control_headers)

    assert resp.status == 400
    assert (await resp.json())["field"] == "tag"
    assert len(client.app[FAULTS].active()) == 2


@pytest.mark.parametrize("query", ["tags=exp-1", "tag=exp-1&tag=exp-2", "tag=a%20b"])
async def test_delete_with_a_query_it_does_not_understand_is_refused(
    client: Client, control_headers: dict[str, str], query: str
) -> None:
    await add(client, control_headers, kind="drop", route="/popular", tag="exp-1")

    resp = await client.delete(f"/_chaos/faults?{query}", headers=control_headers)

    assert resp.status == 400
    assert (await resp.json())["field"] in query
    assert len(client.app[FAULTS].active()) == 1


async def test_list_with_a_tag_shows_only_that_tags_rules(
    client: Client, control_headers: dict[str, str]
) -> None:
    one = await add(client, control_headers, kind="drop", route="/popular", tag="run-1")
    await add(client, control_headers, kind="drop", edge="caller -> up", tag="run-2")
    two = await add(client, control_headers, kind="hang", route="*", tag="run-1")

    listed = await (await client.get("/_chaos/faults?tag=run-1", headers=control_headers)).json()

    assert [r["id"] for r in listed["faults"]] == [one["id"], two["id"]]


@pytest.mark.parametrize("query", ["tag=", "colour=red"])
async def test_list_with_a_query_it_does_not_understand_is_refused(
    client: Client, control_headers: dict[str, str], query: str
) -> None:
    resp = await client.get(f"/_chaos/faults?{query}", headers=control_headers)

    assert resp.status == 400
    assert (await resp.json())["field"] == query.partition("=")[0]


WALL = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@pytest.fixture
async def timed(
    make_caller: MakeCaller, upstream: Upstream, aiohttp_client: AiohttpClient, clock: FakeClock
) -> Client:
    """A service whose rules live on the fake clock, its wall clock in step; at most 2 rules."""
    faults = FaultRegistry(clock=clock, wall_clock=lambda: WALL + clock() - 1000, max_rules=2)
    caller = await make_caller(upstream.url, routes=popular_route, faults=faults)
    return await aiohttp_client(caller.server)


async def test_a_listed_rule_shows_its_remaining_ttl_and_its_expiry_instant(
    timed: Client, control_headers: dict[str, str], clock: FakeClock
) -> None:
    created = await add(timed, control_headers, kind="drop", route="/popular", ttl_s=30)
    clock.advance(10)

    listed = await (await timed.get("/_chaos/faults", headers=control_headers)).json()

    assert created["expires_at"] == "2023-11-14T22:13:50.000Z"
    assert listed["faults"][0]["remaining_s"] == 20
    assert listed["faults"][0]["expires_at"] == "2023-11-14T22:13:50.000Z"
    assert (listed["max_rules"], listed["hung"], listed["max_hung"]) == (2, 0, 256)


async def test_a_rule_beyond_the_cap_gets_429_naming_the_cap(
    timed: Client, control_headers: dict[str, str]
) -> None:
    await add(timed, control_headers, kind="drop", route="/popular", ttl_s=90)
    first = await add(timed, control_headers, kind="drop", route="/popular", ttl_s=29.2)

    resp = await timed.post("/_chaos/faults", json=DROP_POPULAR, headers=control_headers)

    assert resp.status == 429
    answer = await resp.json()
    assert answer["limit"] == 2
    assert "at most 2 fault rules" in answer["error"]
    assert resp.headers["Retry-After"] == "30"  # the soonest expiry, rounded up
    await timed.delete(f"/_chaos/faults/{first['id']}", headers=control_headers)
    assert (
        await timed.post("/_chaos/faults", json=DROP_POPULAR, headers=control_headers)
    ).status == 201


async def test_a_runs_rules_are_listed_and_removed_by_its_tag_leaving_others(
    timed: Client, control_headers: dict[str, str]
) -> None:
    mine = await add(
        timed, control_headers, kind="drop", route="/popular", tag="run-7f3a", ttl_s=60
    )
    other = await add(timed, control_headers, kind="drop", route="/popular", tag="run-0001")

    listed = await (await timed.get("/_chaos/faults?tag=run-7f3a", headers=control_headers)).json()
    removed = await (
        await timed.delete("/_chaos/faults?tag=run-7f3a", headers=control_headers)
    ).json()
    after = await (await timed.get("/_chaos/faults?tag=run-7f3a", headers=control_headers)).json()

    assert [(r["id"], r["tag"], r["ttl_s"]) for r in listed["faults"]] == [
        (mine["id"], "run-7f3a", 60)
    ]
    assert removed == {"removed": 1}
    assert after["faults"] == []
    assert [r.id for r in timed.app[FAULTS].active()] == [other["id"]]
