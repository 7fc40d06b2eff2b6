"""Corrupt rules mangle one JSON value of a request or an answer; a
``Content-Digest`` catches a body mangled after its sender signed it, and
only then. Real kit apps on loopback: a caller and a kit-built upstream."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from services.common import DEPENDENCIES, DependencyError, read_json
from services.common.corrupt import DIGEST_HEADER, digest_matches, digest_of, mangle

from .conftest import CALLER, UPSTREAM, Caller, MakeCaller, Upstream

Client = TestClient[Any, Any]

BODY = {
    "member": "m-42",
    "preferences": {"maturity_level": "13+", "languages": ["en", "pt-BR"], "subtitles": True},
    "version": 7,
    "ratio": 0.5,
    "note": None,
}


def leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Every value of a JSON document by its path."""
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return {k: v for key, item in items for k, v in leaves(item, f"{path}/{key}").items()}
    return {path: value}


def test_an_untouched_body_comes_out_byte_for_byte() -> None:
    raw = json.dumps(BODY).encode()
    assert json.dumps(json.loads(raw)).encode() == raw


@pytest.mark.parametrize("seed", range(200))
def test_mangle_changes_exactly_one_value_keeping_its_type_keys_and_shape(seed: int) -> None:
    before = leaves(BODY)
    after = leaves(json.loads(mangle(json.dumps(BODY).encode(), random.Random(seed)) or b""))

    assert after.keys() == before.keys()
    changed = [path for path in before if after[path] != before[path]]
    assert len(changed) == 1, changed
    assert type(after[changed[0]]) is type(before[changed[0]])
    assert after["/note"] is None


@pytest.mark.parametrize("body", [b"", b"not json", b"{}", b"[]", b"[null]", b'{"a": {}}'])
def test_a_body_with_no_value_to_change_is_left_alone(body: bytes) -> None:
    assert mangle(body, random.Random(1)) is None


def test_a_digest_is_checked_only_when_one_is_declared() -> None:
    body = b'{"a": 1}'
    assert digest_matches(body, {DIGEST_HEADER: digest_of(body)})
    assert not digest_matches(b'{"a": 3}', {DIGEST_HEADER: digest_of(body)})
    assert digest_matches(b'{"a": 3}', {})
    assert digest_matches(b'{"a": 3}', {DIGEST_HEADER: "sha-512=:AAAA:"})
    assert digest_matches(body, {DIGEST_HEADER: f"sha-512=:AAAA:, {digest_of(body)}"})


# -- the services: a kit upstream that echoes, and a caller that calls it


def upstream_routes(app: web.Application) -> None:
    async def echo(request: web.Request) -> web.Response:
        try:
            return web.json_response({"got": await read_json(request)})
        except Exception as exc:  # noqa: BLE001 - the 400 is what the test reads
            return web.json_response({"error": str(exc), "field": exc.field}, status=400)  # type: ignore[attr-defined]

    async def profile(request: web.Request) -> web.Response:
        return web.json_response(BODY)

    app.router.add_post("/echo", echo)
    app.router.add_get("/profile", profile)


def caller_routes(app: web.Application) -> None:
    async def via(request: web.Request) -> web.Response:
        dep = request.app[DEPENDENCIES][UPSTREAM]
        try:
            if request.query.get("post"):
                answer = await dep.request("POST", "/echo", json=BODY, idempotent=True)
            else:
                answer = await dep.get("/profile")
        except DependencyError as exc:
            return web.json_response({"failed": str(exc)}, status=503)
        return web.json_response({"status": answer.status, "data": answer.data})

    app.router.add_get("/via", via)


@pytest.fixture
async def kit_upstream(make_caller: MakeCaller) -> Caller:
    return await make_caller(routes=upstream_routes)


def url_of(service: Caller) -> str:
    return str(service.server.make_url("")).rstrip("/")


async def add(client: Client, headers: dict[str, str], **rule: Any) -> str:
    resp = await client.post("/_chaos/faults", json={"kind": "corrupt", **rule}, headers=headers)
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["id"])


async def matched(client: Client, headers: dict[str, str], rule: str) -> int:
    listed = await (await client.get("/_chaos/faults", headers=headers)).json()
    return int(next(r["matched"] for r in listed["faults"] if r["id"] == rule))


async def test_a_request_corrupted_on_arrival_reaches_an_unsigned_handler_changed(
    kit_upstream: Caller, aiohttp_client: AiohttpClient, control_headers: dict[str, str]
) -> None:
    client: Client = await aiohttp_client(kit_upstream.server)
    rule = await add(client, control_headers, route="/echo", message="request")

    got = await (await client.post("/echo", json=BODY)).json()

    changed = [p for p, v in leaves(BODY).items() if leaves(got["got"])[p] != v]
    assert len(changed) == 1
    assert await matched(client, control_headers, rule) == 1


async def test_a_signed_request_corrupted_on_arrival_is_refused_naming_the_digest(
    kit_upstream: Caller, aiohttp_client: AiohttpClient, control_headers: dict[str, str]
) -> None:
    client: Client = await aiohttp_client(kit_upstream.server)
    rule = await add(client, control_headers, route="/echo", message="request")
    raw = json.dumps(BODY).encode()
    headers = {"Content-Type": "application/json", DIGEST_HEADER: digest_of(raw)}

    resp = await client.post("/echo", data=raw, headers=headers)

    assert resp.status == 400
    assert (await resp.json())["field"] == DIGEST_HEADER
    assert await matched(client, control_headers, rule) == 1


async def test_a_request_rule_on_a_route_with_no_body_acts_on_nothing(
    kit_upstream: Caller, aiohttp_client: AiohttpClient, control_headers: dict[str, str]
) -> None:
    client: Client = await aiohttp_client(kit_upstream.server)
    rule = await add(client, control_headers, route="/profile", message="request")

    assert await (await client.get("/profile")).json() == BODY

    assert await matched(client, control_headers, rule) == 0


async def test_an_answer_the_service_corrupts_is_signed_as_served(
    kit_upstream: Caller, aiohttp_client: AiohttpClient, control_headers: dict[str, str]
) -> None:
    client: Client = await aiohttp_client(kit_upstream.server)
    rule = await add(client, control_headers, route="/profile")  # message: response

    resp = await client.get("/profile")
    raw = await resp.read()

    assert json.loads(raw) != BODY
    assert resp.headers[DIGEST_HEADER] == digest_of(raw)
    assert await matched(client, control_headers, rule) == 1


async def test_every_json_answer_of_the_kit_is_signed(
    kit_upstream: Caller, aiohttp_client: AiohttpClient
) -> None:
    client: Client = await aiohttp_client(kit_upstream.server)
    for path in ("/profile", "/nowhere"):
        resp = await client.get(path)
        assert resp.headers[DIGEST_HEADER] == digest_of(await resp.read()), path


async def test_an_answer_corrupted_on_an_edge_is_refused_and_retried(
    make_caller: MakeCaller,
    kit_upstream: Caller,
    aiohttp_client: AiohttpClient,
    control_headers: dict[str, str],
) -> None:
    caller = await make_caller(url_of(kit_upstream), routes=caller_routes)
    client: Client = await aiohttp_client(caller.server)
    rule = await add(client, control_headers, edge=f"{CALLER} -> {UPSTREAM}", percent=100)

    resp = await client.get("/via")

    assert resp.status == 503
    assert "Content-Digest" in (await resp.json())["failed"]
    assert await matched(client, control_headers, rule) == 3  # every try of three
    assert caller.retries() == 2


async def test_a_request_corrupted_on_an_edge_is_refused_by_a_kit_receiver(
    make_caller: MakeCaller,
    kit_upstream: Caller,
    aiohttp_client: AiohttpClient,
    control_headers: dict[str, str],
) -> None:
    caller = await make_caller(url_of(kit_upstream), routes=caller_routes)
    client: Client = await aiohttp_client(caller.server)
    rule = await add(client, control_headers, edge=f"{CALLER} -> {UPSTREAM}", message="request")

    got = await (await client.get("/via", params={"post": "1"})).json()

    assert got["status"] == 400
    assert got["data"]["field"] == DIGEST_HEADER
    assert await matched(client, control_headers, rule) == 1


async def test_a_request_corrupted_on_an_edge_differs_from_what_was_signed(
    make_caller: MakeCaller,
    upstream: Upstream,
    aiohttp_client: AiohttpClient,
    control_headers: dict[str, str],
) -> None:
    caller = await make_caller(upstream.url, routes=caller_routes)
    client: Client = await aiohttp_client(caller.server)
    await add(client, control_headers, edge=f"{CALLER} -> {UPSTREAM}", message="request")

    await client.get("/via", params={"post": "1"})

    sent = upstream.requests[0]
    assert not digest_matches(sent["body"].encode(), sent["headers"])
    assert json.loads(sent["body"]).keys() == BODY.keys()


async def test_an_unsigned_answer_corrupted_on_an_edge_gets_through(
    make_caller: MakeCaller,
    upstream: Upstream,
    aiohttp_client: AiohttpClient,
    control_headers: dict[str, str],
) -> None:
    """The digest checks only what was signed: a plain upstream's answer is not."""
    caller = await make_caller(upstream.url, routes=caller_routes)
    client: Client = await aiohttp_client(caller.server)
    rule = await add(client, control_headers, edge=f"{CALLER} -> {UPSTREAM}")

    got = await (await client.get("/via")).json()

    assert got["status"] == 200
    assert got["data"] != {"path": "/profile", "hit": 1}
    assert await matched(client, control_headers, rule) == 1


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"kind": "corrupt", "route": "/profile", "message": "body"}, "message"),
        ({"kind": "error", "route": "/profile", "message": "request"}, "message"),
    ],
)
async def test_a_bad_corrupt_rule_is_refused_naming_the_field(
    kit_upstream: Caller,
    aiohttp_client: AiohttpClient,
    control_headers: dict[str, str],
    rule: dict[str, Any],
    field: str,
) -> None:
    client: Client = await aiohttp_client(kit_upstream.server)
    resp = await client.post("/_chaos/faults", json=rule, headers=control_headers)
    assert resp.status == 400
    assert (await resp.json())["field"] == field
