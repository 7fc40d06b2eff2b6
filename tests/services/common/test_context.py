"""Request context: read from the headers, carried in contextvars, forwarded
on every outgoing call (X-Request-Id, X-Chaos-Cohort, X-Deadline-Ms)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpClient

from services.common import DEPENDENCIES, current
from services.common.context import (
    COHORT_HEADER,
    DEADLINE_HEADER,
    REQUEST_ID_HEADER,
    RequestContext,
    bound,
    from_headers,
)

from .conftest import MakeCaller, Upstream

Client = TestClient[Any, Any]

NOW = 500.0


# -- reading and writing the headers -----------------------------------------


def test_context_is_read_from_the_headers() -> None:
    ctx = from_headers(
        {REQUEST_ID_HEADER: "req-1", COHORT_HEADER: "experiment", DEADLINE_HEADER: "250"},
        default_deadline_ms=2000,
        now=NOW,
    )

    assert ctx == RequestContext(
        request_id="req-1", cohort="experiment", deadline=NOW + 0.25, budget_s=0.25
    )


def test_a_request_id_is_generated_when_absent_or_blank() -> None:
    ids = {from_headers(h, 2000, now=NOW).request_id for h in ({}, {REQUEST_ID_HEADER: "  "})}

    assert len(ids) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_an_overlong_request_id_is_truncated() -> None:
    ctx = from_headers({REQUEST_ID_HEADER: "x" * 1000}, 2000, now=NOW)

    assert ctx.request_id == "x" * 128


def test_cohort_is_case_insensitive_and_unknown_values_mean_none() -> None:
    cohorts = [
        from_headers({COHORT_HEADER: value}, 2000, now=NOW).cohort
        for value in ("Experiment", " control ", "canary", "")
    ]

    assert cohorts == ["experiment", "control", "none", "none"]


def test_a_missing_or_unreadable_deadline_gets_the_default_budget() -> None:
    for value in (None, "soon", "", "nan", "inf", "-inf", "1e400"):
        headers = {} if value is None else {DEADLINE_HEADER: value}
        assert from_headers(headers, 2000, now=NOW).deadline == NOW + 2.0, value


def test_a_deadline_over_the_cap_is_clamped_to_it() -> None:
    day_ms = "86400000"

    capped = from_headers({DEADLINE_HEADER: day_ms}, 2000, now=NOW)
    own_cap = from_headers({DEADLINE_HEADER: day_ms}, 2000, now=NOW, max_deadline_ms=5000)

    assert capped.deadline == NOW + 60.0
    assert own_cap.deadline == NOW + 5.0


@given(st.integers(min_value=-(10**30), max_value=10**30), st.integers(1, 10**7))
def test_no_header_value_buys_more_than_the_cap(budget_ms: int, cap_ms: int) -> None:
    ctx = from_headers({DEADLINE_HEADER: str(budget_ms)}, 2000, now=NOW, max_deadline_ms=cap_ms)

    assert ctx.deadline is not None
    assert ctx.deadline <= NOW + cap_ms / 1000


@given(
    st.dictionaries(
        st.sampled_from([REQUEST_ID_HEADER, COHORT_HEADER, DEADLINE_HEADER, "Other"]),
        st.one_of(st.text(), st.floats().map(repr), st.integers().map(str)),
    )
)
def test_any_header_values_give_a_usable_context(headers: dict[str, str]) -> None:
    ctx = from_headers(headers, 2000, now=NOW)

    assert ctx.request_id
    assert ctx.cohort in ("control", "experiment", "none")
    assert ctx.deadline is not None
    assert DEADLINE_HEADER in ctx.outgoing_headers()


def test_outgoing_headers_carry_id_cohort_and_the_remaining_budget() -> None:
    ctx = RequestContext(request_id="req-1", cohort="control", deadline=None)

    assert ctx.outgoing_headers() == {REQUEST_ID_HEADER: "req-1", COHORT_HEADER: "control"}


def test_the_none_cohort_is_not_forwarded() -> None:
    ctx = RequestContext(request_id="req-1", cohort="none", deadline=None)

    assert COHORT_HEADER not in ctx.outgoing_headers()


def test_an_expired_budget_is_forwarded_as_zero_never_negative() -> None:
    ctx = RequestContext(request_id="req-1", cohort="none", deadline=0.0)

    assert ctx.outgoing_headers()[DEADLINE_HEADER] == "0"


def test_remaining_budget_shrinks_with_time() -> None:
    ctx = RequestContext(request_id="r", cohort="none", deadline=NOW + 1.0)

    assert ctx.remaining_s(now=NOW) == 1.0
    assert ctx.remaining_s(now=NOW + 0.25) == 0.75


def test_bound_context_is_current_only_inside_the_block() -> None:
    ctx = RequestContext(request_id="r", cohort="experiment", deadline=None)

    with bound(ctx):
        assert current() is ctx
    assert current() is None


# -- through real apps -------------------------------------------------------


def forwarding_routes(app: web.Application) -> None:
    async def forward(request: web.Request) -> web.Response:
        response = await request.app[DEPENDENCIES]["up"].get("/echo")
        return web.json_response(response.data)

    app.router.add_get("/forward", forward)


async def test_request_id_and_cohort_are_forwarded_on_outgoing_calls(
    make_caller: MakeCaller, upstream: Upstream, aiohttp_client: AiohttpClient
) -> None:
    caller = await make_caller(upstream.url, routes=forwarding_routes)
    client: Client = await aiohttp_client(caller.server)

    resp = await client.get(
        "/forward", headers={REQUEST_ID_HEADER: "req-42", COHORT_HEADER: "experiment"}
    )

    assert resp.status == 200
    seen = upstream.requests[0]["headers"]
    assert seen[REQUEST_ID_HEADER] == "req-42"
    assert seen[COHORT_HEADER] == "experiment"
    assert int(seen[DEADLINE_HEADER]) > 0


async def test_a_request_id_is_generated_when_absent_echoed_and_forwarded(
    make_caller: MakeCaller, upstream: Upstream, aiohttp_client: AiohttpClient
) -> None:
    caller = await make_caller(upstream.url, routes=forwarding_routes)
    client: Client = await aiohttp_client(caller.server)

    resp = await client.get("/forward")

    echoed = resp.headers[REQUEST_ID_HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", echoed)
    assert upstream.requests[0]["headers"][REQUEST_ID_HEADER] == echoed


async def test_a_given_request_id_is_echoed_in_the_response_even_on_errors(
    make_caller: MakeCaller, aiohttp_client: AiohttpClient
) -> None:
    caller = await make_caller()
    client: Client = await aiohttp_client(caller.server)

    ok = await client.get("/healthz", headers={REQUEST_ID_HEADER: "req-7"})
    missing = await client.get("/no/such/route", headers={REQUEST_ID_HEADER: "req-8"})

    assert ok.headers[REQUEST_ID_HEADER] == "req-7"
    assert missing.status == 404
    assert missing.headers[REQUEST_ID_HEADER] == "req-8"


async def test_contexts_of_concurrent_requests_do_not_mix(
    make_caller: MakeCaller, upstream: Upstream, aiohttp_client: AiohttpClient
) -> None:
    caller = await make_caller(upstream.url, routes=forwarding_routes)
    client: Client = await aiohttp_client(caller.server)
    upstream.hold()  # both requests are in flight at once

    pending = [
        asyncio.ensure_future(
            client.get("/forward", headers={REQUEST_ID_HEADER: f"req-{i}", COHORT_HEADER: cohort})
        )
        for i, cohort in enumerate(["experiment", "control", "none"])
    ]
    await upstream.wait_for_hits(3)
    upstream.release()
    await asyncio.gather(*pending)

    seen = {
        r["headers"][REQUEST_ID_HEADER]: r["headers"].get(COHORT_HEADER) for r in upstream.requests
    }
    assert seen == {"req-0": "experiment", "req-1": "control", "req-2": None}


def test_generated_request_ids_are_unique_and_look_like_uuid_hex() -> None:
    ids = {from_headers({}, 2000, now=NOW).request_id for _ in range(10_000)}

    assert len(ids) == 10_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
