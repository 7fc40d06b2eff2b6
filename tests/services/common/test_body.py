"""Reading a JSON body and answering bad input: one reader, one 400 shape."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common import InvalidFaultRule, InvalidField, bad_request, read_json


async def echo(request: web.Request) -> web.Response:
    try:
        return web.json_response({"body": await read_json(request)})
    except InvalidField as exc:
        return bad_request(exc)


@pytest.fixture
async def client(aiohttp_client: Any) -> Any:
    app = web.Application()
    app.router.add_post("/echo", echo)
    return await aiohttp_client(app)


async def post(client: Any, data: bytes, content_type: str = "application/json") -> Any:
    return await client.post("/echo", data=data, headers={"Content-Type": content_type})


async def test_a_json_body_is_read_as_json(client: Any) -> None:
    resp = await post(client, b'{"member": "m-1", "title": [1, 2]}')
    assert resp.status == 200
    assert await resp.json() == {"body": {"member": "m-1", "title": [1, 2]}}


async def test_a_body_is_decoded_with_the_charset_it_declares(client: Any) -> None:
    resp = await post(
        client, '{"name": "Amélie"}'.encode("latin-1"), "application/json; charset=latin-1"
    )
    assert (await resp.json())["body"] == {"name": "Amélie"}


@pytest.mark.parametrize(
    ("raw", "content_type", "says"),
    [
        (b"{nope", "application/json", "is not valid JSON"),
        (b"", "application/json", "is not valid JSON"),
        (b"[" * 100_000, "application/json", "is not valid JSON"),
        (b"1" * 5000, "application/json", "is not valid JSON"),
        (b'{"a": "\xff"}', "application/json", "is not valid text"),
        (b"{}", "application/json; charset=no-such-charset", "unknown charset 'no-such-charset'"),
    ],
    ids=["bad-json", "empty", "too-deep", "integer-over-digit-limit", "bad-utf8", "bad-charset"],
)
async def test_a_body_that_cannot_be_read_is_a_400_naming_the_body(
    client: Any, raw: bytes, content_type: str, says: str
) -> None:
    resp = await post(client, raw, content_type)
    assert resp.status == 400
    answer = await resp.json()
    assert answer["field"] == "body" and answer["status"] == 400
    assert answer["error"].startswith(f"body: {says}")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
async def test_any_bytes_are_read_or_refused_naming_the_body_never_a_500(
    client: Any, raw: bytes
) -> None:
    resp = await post(client, raw)
    assert resp.status in (200, 400)
    if resp.status == 400:
        assert (await resp.json())["field"] == "body"


def test_bad_request_is_a_400_with_the_message_and_the_field() -> None:
    resp = bad_request(InvalidField("limit", "must be at least 1, got 0"))
    assert resp.status == 400
    assert (
        resp.text
        == '{"error": "limit: must be at least 1, got 0", "status": 400, "field": "limit"}'
    )


def test_a_fault_rule_error_is_a_field_error_and_a_value_error() -> None:
    exc = InvalidFaultRule("percent", "must be between 0 and 100, got 101")
    assert isinstance(exc, InvalidField) and isinstance(exc, ValueError)
    assert (exc.field, str(exc)) == ("percent", "percent: must be between 0 and 100, got 101")
