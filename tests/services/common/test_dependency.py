"""The Dependency client: which calls are retried, the retry budget, the bulkhead.

Retries happen only for idempotent requests (GET, PUT, DELETE..., or any
request with an Idempotency-Key) and only on retriable errors (connection
refused, timeout, 5xx); never on 4xx, an open breaker or a full bulkhead.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import time
from pathlib import Path

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from services.common import (
    BulkheadFull,
    CircuitOpen,
    DeadlineExceeded,
    DependencyError,
    DependencyHTTPError,
    DependencyTimeout,
    DependencyUnavailable,
    ResponseTooLarge,
    RetryBudgetExhausted,
)
from services.common.context import RequestContext, bound
from services.common.dependency import IDEMPOTENT_METHODS
from services.common.metrics import OUTCOMES
from tests.waiting import until

from .conftest import Caller, MakeCaller, Upstream

# -- what is retried ---------------------------------------------------------


async def test_get_is_retried_on_5xx_until_it_succeeds(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.script = [503, 502]
    caller = await make_caller(upstream.url, attempts=3)

    response = await caller.dep().get("/titles/1")

    assert response.status == 200
    assert upstream.hits == 3
    assert caller.retries() == 2


async def test_get_gives_up_after_its_attempts_and_raises_the_last_error(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 500
    caller = await make_caller(upstream.url, attempts=3)

    with pytest.raises(DependencyHTTPError) as caught:
        await caller.dep().get("/titles/1")

    assert caught.value.status == 500
    assert upstream.hits == 3
    assert caller.retries() == 2
    assert caller.outcome("error") == 3


async def test_get_is_retried_on_connection_refused(
    make_caller: MakeCaller, closed_port: str
) -> None:
    caller = await make_caller(closed_port, attempts=3)

    with pytest.raises(DependencyUnavailable):
        await caller.dep().get("/titles/1")

    assert caller.outcome("error") == 3
    assert caller.retries() == 2


async def test_get_is_retried_on_timeout(make_caller: MakeCaller, upstream: Upstream) -> None:
    upstream.hold()  # long enough for each try to arrive on a loaded machine, then hang
    caller = await make_caller(upstream.url, attempts=2, timeout_s=0.5)

    with pytest.raises(DependencyTimeout):
        await caller.dep().get("/titles/1")

    assert upstream.hits == 2
    assert caller.outcome("timeout") == 2
    assert caller.retries() == 1


async def test_post_is_not_retried(make_caller: MakeCaller, upstream: Upstream) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=3)

    with pytest.raises(DependencyHTTPError):
        await caller.dep().request("POST", "/playback/start", json={"member": "m-1"})

    assert upstream.hits == 1
    assert caller.retries() == 0


async def test_post_is_not_retried_on_connection_refused(
    make_caller: MakeCaller, closed_port: str
) -> None:
    caller = await make_caller(closed_port, attempts=3)

    with pytest.raises(DependencyUnavailable):
        await caller.dep().request("POST", "/playback/start", json={})

    assert caller.outcome("error") == 1
    assert caller.retries() == 0


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_write_with_an_idempotency_key_is_retried_with_the_same_key(
    make_caller: MakeCaller, upstream: Upstream, method: str
) -> None:
    upstream.script = [503, 503]
    caller = await make_caller(upstream.url, attempts=3)

    response = await caller.dep().request(
        method, "/profiles/m-1", json={"autoplay": False}, headers={"Idempotency-Key": "k-1"}
    )

    assert response.status == 200
    assert upstream.hits == 3
    assert {r["headers"]["Idempotency-Key"] for r in upstream.requests} == {"k-1"}
    assert caller.retries() == 2


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "DELETE"])
async def test_the_other_idempotent_methods_of_rfc_9110_are_retried(
    make_caller: MakeCaller, upstream: Upstream, method: str
) -> None:
    upstream.script = [503]
    caller = await make_caller(upstream.url, attempts=2)

    response = await caller.dep().request(method, "/x")

    assert response.status == 200
    assert upstream.hits == 2


def test_the_docs_name_exactly_the_methods_that_are_retried() -> None:
    readme = (Path(__file__).parents[3] / "docs" / "services.md").read_text()
    named = re.search(r"RFC 9110,\s+((?:[A-Z]+,?\s+(?:and\s+)?)+)or a request", readme)

    assert named is not None
    assert set(re.findall(r"[A-Z]{3,}", named.group(1))) == IDEMPOTENT_METHODS


@pytest.mark.parametrize("path", ["titles/1", "", "http://elsewhere/x"])
async def test_a_path_without_a_leading_slash_is_our_error_at_the_call_site(
    make_caller: MakeCaller, upstream: Upstream, path: str
) -> None:
    caller = await make_caller(upstream.url, attempts=3, breaker_fail_max=1)

    with pytest.raises(ValueError, match="must start with '/'") as caught:
        await caller.dep().get(path)

    assert not isinstance(caught.value, DependencyError)
    assert upstream.hits == 0
    assert caller.outcome("error") == 0
    assert caller.retries() == 0
    assert caller.breaker_state() == 0


async def test_idempotent_flag_overrides_the_method(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=2)

    with pytest.raises(DependencyHTTPError):
        await caller.dep().request("POST", "/search", json={}, idempotent=True)
    with pytest.raises(DependencyHTTPError):
        await caller.dep().request("GET", "/once", idempotent=False)

    assert [r["path"] for r in upstream.requests] == ["/search", "/search", "/once"]


async def test_client_errors_4xx_are_returned_not_retried(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 404
    caller = await make_caller(upstream.url, attempts=3)

    response = await caller.dep().get("/titles/999999")

    assert response.status == 404
    assert response.data == {"path": "/titles/999999", "hit": 1}
    assert upstream.hits == 1
    assert caller.retries() == 0
    assert caller.outcome("success") == 1


async def test_an_open_breaker_is_not_retried(make_caller: MakeCaller, upstream: Upstream) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=3, breaker_fail_max=1, breaker_reset_s=30)
    with pytest.raises(DependencyHTTPError):
        await caller.dep().request("POST", "/x")  # not retried: opens the breaker

    with pytest.raises(CircuitOpen):
        await caller.dep().get("/x")

    assert upstream.hits == 1
    assert caller.retries() == 0
    assert caller.outcome("short_circuited") == 1


async def test_the_failure_that_trips_the_breaker_is_not_retried_into_it(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=3, breaker_fail_max=1, breaker_reset_s=30)

    with pytest.raises(DependencyHTTPError):  # the real error, not CircuitOpen
        await caller.dep().get("/x")

    assert upstream.hits == 1
    assert caller.retries() == 0  # chaosbed_retries_total counts retries actually sent
    assert caller.outcome("short_circuited") == 0


# -- the retry budget --------------------------------------------------------


async def test_retry_budget_caps_retries_when_a_dependency_is_down(
    make_caller: MakeCaller, closed_port: str
) -> None:
    ratio, floor_per_s, window_s, calls, attempts = 0.1, 0.5, 10.0, 200, 3
    caller = await make_caller(
        closed_port, attempts=attempts, retry_budget_ratio=ratio,
        retry_budget_min_per_s=floor_per_s, retry_budget_window_s=window_s,
    )  # fmt: skip

    exhausted = 0
    for _ in range(calls):
        try:
            await caller.dep().get("/titles/1")
        except RetryBudgetExhausted:
            exhausted += 1
        except DependencyUnavailable:
            pass

    bound = max(floor_per_s * window_s, ratio * calls)  # the budget formula: 20 here
    retries = caller.retries()
    assert retries <= bound
    assert retries < calls * (attempts - 1) / 10  # far below the 400 an unbudgeted client sends
    assert caller.outcome("error") == calls + retries  # every retry was a real try
    assert exhausted > 0
    assert caller.outcome("budget_exhausted") == exhausted


async def test_calls_the_bulkhead_refused_buy_no_retries(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    # the budget's denominator is calls that reached the dependency: 29 calls that
    # a full bulkhead refused must not buy the 30th call a retry (10% of 31 would)
    upstream.hold()
    caller = await make_caller(
        upstream.url, attempts=2, bulkhead_size=1, timeout_s=0.3,
        retry_budget_ratio=0.1, retry_budget_min_per_s=0.0, retry_budget_window_s=10.0,
        breaker_fail_max=10**6, breaker_min_calls=10**6,
    )  # fmt: skip
    await asyncio.gather(
        *(caller.dep().get("/titles/1") for _ in range(30)), return_exceptions=True
    )
    assert caller.outcome("rejected") == 29
    upstream.status = 503
    upstream.release()

    with pytest.raises(RetryBudgetExhausted):
        await caller.dep().get("/titles/1")

    assert caller.retries() == 0


async def test_retry_budget_exhausted_is_raised_with_the_error_that_wanted_a_retry(
    make_caller: MakeCaller, closed_port: str
) -> None:
    caller = await make_caller(
        closed_port, attempts=3, retry_budget_ratio=0.0, retry_budget_min_per_s=0.1,
        retry_budget_window_s=10.0,
    )  # fmt: skip  # the floor allows exactly one retry in the window

    with pytest.raises(RetryBudgetExhausted) as caught:
        await caller.dep().get("/titles/1")

    assert isinstance(caught.value.__cause__, DependencyUnavailable)
    assert caller.retries() == 1
    assert caller.outcome("error") == 2
    assert caller.outcome("budget_exhausted") == 1


async def test_concurrent_calls_to_a_down_dependency_share_one_budget(
    make_caller: MakeCaller, closed_port: str
) -> None:
    caller = await make_caller(
        closed_port, attempts=3, retry_budget_ratio=0.1, retry_budget_min_per_s=0.1,
        retry_budget_window_s=10.0, bulkhead_size=100,
    )  # fmt: skip

    results = await asyncio.gather(
        *(caller.dep().get("/titles/1") for _ in range(100)), return_exceptions=True
    )

    assert all(isinstance(r, DependencyUnavailable | RetryBudgetExhausted) for r in results)
    assert caller.retries() <= max(0.1 * 10.0, 0.1 * 100)


# -- the bulkhead ------------------------------------------------------------


async def test_bulkhead_rejects_the_call_over_its_size_at_once(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    caller = await make_caller(upstream.url, bulkhead_size=2)
    upstream.hold()
    in_flight = [asyncio.create_task(caller.dep().get(f"/slow/{i}")) for i in range(2)]
    await upstream.wait_for_hits(2)

    started = time.monotonic()
    with pytest.raises(BulkheadFull):
        await caller.dep().get("/third")
    rejected_in = time.monotonic() - started

    assert rejected_in < 0.5  # the two in flight are held until released: it did not wait
    assert upstream.hits == 2
    assert caller.outcome("rejected") == 1
    upstream.release()
    assert [r.status for r in await asyncio.gather(*in_flight)] == [200, 200]


async def test_a_full_bulkhead_is_not_retried(make_caller: MakeCaller, upstream: Upstream) -> None:
    caller = await make_caller(upstream.url, bulkhead_size=1, attempts=3)
    upstream.hold()
    in_flight = asyncio.create_task(caller.dep().get("/slow"))
    await upstream.wait_for_hits(1)

    with pytest.raises(BulkheadFull):
        await caller.dep().get("/rejected")

    assert caller.retries() == 0
    assert caller.outcome("rejected") == 1
    upstream.release()
    await in_flight


async def test_bulkhead_frees_its_slots_when_calls_end(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, bulkhead_size=1, attempts=1)
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/fails")
    upstream.status = 200

    assert (await caller.dep().get("/ok")).status == 200
    assert caller.dep().bulkhead.in_flight == 0


async def test_bulkhead_rejection_does_not_count_against_the_breaker(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.script = [503]
    caller = await make_caller(upstream.url, bulkhead_size=2, attempts=1, breaker_fail_max=2)
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/fails")  # one failure of the two that open the breaker
    upstream.hold()
    in_flight = [asyncio.create_task(caller.dep().get(f"/slow/{i}")) for i in range(2)]
    await upstream.wait_for_hits(3)

    for _ in range(3):
        with pytest.raises(BulkheadFull):
            await caller.dep().get("/rejected")

    breaker = caller.dep().breaker
    assert breaker.current_state == "closed"
    assert breaker.fail_counter == 1  # neither a failure nor a success
    upstream.release()
    await asyncio.gather(*in_flight)


# -- cancellation ------------------------------------------------------------


async def test_a_cancelled_call_is_counted_as_cancelled_and_nothing_else(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    caller = await make_caller(upstream.url)
    upstream.hold()
    call = asyncio.create_task(caller.dep().get("/held"))
    await upstream.wait_for_hits(1)

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    upstream.release()

    assert {o: caller.outcome(o) for o in OUTCOMES} == {
        o: (1 if o == "cancelled" else 0) for o in OUTCOMES
    }


async def test_a_call_cancelled_while_waiting_to_retry_counts_no_retry(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=3, backoff_s=5.0, backoff_max_s=5.0)
    call = asyncio.create_task(caller.dep().get("/x"))
    await until(lambda: caller.outcome("error") == 1)  # the first try failed: now the backoff

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    assert upstream.hits == 1
    assert caller.retries() == 0  # chaosbed_retries_total counts retries sent, not planned
    assert caller.outcome("error") == 1


# -- the size of an answer ---------------------------------------------------

LIMIT = 1000


async def big_answer_server(aiohttp_server: AiohttpServer, size: int, how: str) -> str:
    """A real upstream answering `size` bytes: with a Content-Length, chunked
    (no length declared), or gzip-compressed (a small declared length)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        body = b"x" * size
        if how == "length":
            return web.Response(body=body)
        if how == "gzip":
            return web.Response(body=gzip.compress(body), headers={"Content-Encoding": "gzip"})
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for start in range(0, size, 256):
            await resp.write(body[start : start + 256])
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


@pytest.mark.parametrize("how", ["length", "chunked", "gzip"])
async def test_an_answer_over_max_body_bytes_is_refused(
    make_caller: MakeCaller, aiohttp_server: AiohttpServer, how: str
) -> None:
    url = await big_answer_server(aiohttp_server, LIMIT + 1, how)
    caller = await make_caller(url, max_body_bytes=LIMIT, attempts=3)

    with pytest.raises(ResponseTooLarge, match="max_body_bytes"):
        await caller.dep().get("/big")

    assert caller.outcome("error") == 1  # the dependency's error, and not retried
    assert caller.retries() == 0


@pytest.mark.parametrize("how", ["length", "chunked", "gzip"])
async def test_an_answer_of_exactly_max_body_bytes_is_read_whole(
    make_caller: MakeCaller, aiohttp_server: AiohttpServer, how: str
) -> None:
    url = await big_answer_server(aiohttp_server, LIMIT, how)
    caller = await make_caller(url, max_body_bytes=LIMIT)

    response = await caller.dep().get("/big")

    assert response.data == "x" * LIMIT


async def test_oversized_answers_count_against_the_breaker(
    make_caller: MakeCaller, aiohttp_server: AiohttpServer
) -> None:
    url = await big_answer_server(aiohttp_server, LIMIT + 1, "chunked")
    caller = await make_caller(url, max_body_bytes=LIMIT, attempts=1, breaker_fail_max=2)

    for _ in range(2):
        with pytest.raises(ResponseTooLarge):
            await caller.dep().get("/big")

    with pytest.raises(CircuitOpen):
        await caller.dep().get("/big")


# -- answers that break off --------------------------------------------------


async def misbehaving_server(aiohttp_server: AiohttpServer, how: str) -> tuple[str, list[str]]:
    """A real upstream that drops the connection before answering ("drop"),
    sends its headers then stalls the body ("stall"), or closes the connection
    halfway through a declared body ("truncate"); returns its URL and its hits."""
    hits: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        assert request.transport is not None
        if how == "drop":
            request.transport.abort()
            raise web.HTTPInternalServerError  # never sent: the connection is gone
        resp = web.StreamResponse(headers={"Content-Length": "100"})
        await resp.prepare(request)
        await resp.write(b'{"a": ')
        if how == "stall":
            await asyncio.sleep(30)  # cancelled when the test's server closes
        request.transport.close()
        return resp

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/"), hits


async def test_a_dropped_connection_reaches_the_dependency_once_per_try(
    make_caller: MakeCaller, aiohttp_server: AiohttpServer
) -> None:
    # aiohttp's client resends an idempotent request once, on its own, when the
    # connection drops: a retry no budget sees. The kit's session turns that off.
    url, hits = await misbehaving_server(aiohttp_server, "drop")
    caller = await make_caller(url, attempts=2)

    with pytest.raises(DependencyUnavailable):
        await caller.dep().get("/x")

    assert len(hits) == 2  # two tries, each sent once
    assert caller.outcome("error") == 2
    assert caller.retries() == 1


async def test_a_body_that_stalls_after_the_headers_ends_at_the_per_try_timeout(
    make_caller: MakeCaller, aiohttp_server: AiohttpServer
) -> None:
    url, hits = await misbehaving_server(aiohttp_server, "stall")
    caller = await make_caller(url, attempts=1, timeout_s=0.2)

    started = time.monotonic()
    with pytest.raises(DependencyTimeout):
        await caller.dep().get("/x")

    assert time.monotonic() - started < 1.0
    assert caller.outcome("timeout") == 1


async def test_a_body_cut_off_halfway_is_the_dependencys_error_and_retried(
    make_caller: MakeCaller, aiohttp_server: AiohttpServer
) -> None:
    url, hits = await misbehaving_server(aiohttp_server, "truncate")
    caller = await make_caller(url, attempts=2)

    with pytest.raises(DependencyUnavailable, match="payload is not completed"):
        await caller.dep().get("/x")

    assert len(hits) == 2
    assert caller.outcome("error") == 2


# -- what a caller's latency and request counts measure ----------------------
# Only tries that reached the dependency are timed: a short-circuit, a full
# bulkhead or the caller's own deadline would report the caller's speed (a few
# microseconds) as the dependency's latency.


def timed_tries(caller: Caller) -> float:
    return caller.sample("chaosbed_dependency_call_duration_seconds_count", dependency="up")


def first_tries(caller: Caller) -> float:
    return caller.sample("chaosbed_dependency_first_tries_total", dependency="up")


async def test_a_short_circuited_try_is_not_timed(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=1, breaker_reset_s=30)
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/x")  # reaches the dependency, opens the breaker

    for _ in range(5):
        with pytest.raises(CircuitOpen):
            await caller.dep().get("/x")

    assert caller.outcome("short_circuited") == 5
    assert timed_tries(caller) == 1


async def test_a_try_refused_by_a_full_bulkhead_is_not_timed(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    caller = await make_caller(upstream.url, bulkhead_size=1, attempts=1)
    upstream.hold()
    in_flight = asyncio.create_task(caller.dep().get("/slow"))
    await upstream.wait_for_hits(1)

    with pytest.raises(BulkheadFull):
        await caller.dep().get("/rejected")

    assert timed_tries(caller) == 0
    upstream.release()
    await in_flight
    assert timed_tries(caller) == 1


async def test_a_try_cut_by_the_callers_deadline_is_not_timed(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    caller = await make_caller(upstream.url)
    ctx = RequestContext(request_id="r", cohort="none", deadline=time.monotonic() - 0.01)

    with bound(ctx), pytest.raises(DeadlineExceeded):
        await caller.dep().get("/late")

    assert caller.outcome("deadline") == 1
    assert timed_tries(caller) == 0


async def test_first_tries_count_calls_that_reached_the_dependency_not_their_retries(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.script = [503, 503, 200]
    caller = await make_caller(upstream.url, attempts=3)

    assert (await caller.dep().get("/x")).status == 200

    assert upstream.hits == 3
    assert caller.retries() == 2
    assert first_tries(caller) == 1
    assert timed_tries(caller) == 3  # every try that reached it, retries included


async def test_a_short_circuited_call_is_not_a_first_try(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=1, breaker_reset_s=30)
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/x")

    with pytest.raises(CircuitOpen):
        await caller.dep().get("/x")

    assert first_tries(caller) == 1
