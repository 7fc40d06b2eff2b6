"""The circuit breaker of a Dependency: opens, fails fast, half-opens, closes.

The upstream is a real aiohttp app that counts the requests it receives, so
"fails fast without touching the network" is measured where it matters.
Breaker state is read back from chaosbed_circuit_breaker_state
(0 closed, 1 open, 2 half-open).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from services.common import (
    METRICS,
    CircuitOpen,
    DeadlineExceeded,
    DependencyHTTPError,
    DependencyOverloaded,
    DependencyTimeout,
    DependencyUnavailable,
)
from services.common.breaker import CircuitBreaker
from services.common.context import RequestContext, bound
from tests.waiting import until

from .conftest import Caller, FakeClock, MakeCaller, Upstream

Client = TestClient[Any, Any]

CLOSED, OPEN, HALF_OPEN = 0.0, 1.0, 2.0
RESET_S = 0.2


async def test_breaker_starts_closed_with_its_state_series_present(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    caller = await make_caller(upstream.url)

    sample = caller.app[METRICS].registry.get_sample_value(
        "chaosbed_circuit_breaker_state", {"service": "caller", "dependency": "up"}
    )

    assert sample == CLOSED


async def test_breaker_opens_after_fail_max_consecutive_failures(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=3)

    for _ in range(3):
        with pytest.raises(DependencyHTTPError):
            await caller.dep().get("/x")

    assert caller.breaker_state() == OPEN
    assert upstream.hits == 3


async def test_open_breaker_fails_fast_without_touching_the_network(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=3, breaker_reset_s=30)
    for _ in range(3):
        with pytest.raises(DependencyHTTPError):
            await caller.dep().get("/x")
    upstream.status = 200  # healthy again, but the breaker does not know yet

    for _ in range(10):
        with pytest.raises(CircuitOpen):
            await caller.dep().get("/x")

    assert upstream.hits == 3
    assert caller.outcome("short_circuited") == 10


async def test_consecutive_mode_counts_only_consecutive_failures(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.script = [503, 503, 200, 503, 503]
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=3)

    outcomes = []
    for _ in range(5):
        try:
            outcomes.append((await caller.dep().get("/x")).status)
        except DependencyHTTPError as exc:
            outcomes.append(exc.status)

    assert outcomes == [503, 503, 200, 503, 503]
    assert caller.breaker_state() == CLOSED


async def test_breaker_opens_on_a_down_dependency(
    make_caller: MakeCaller, closed_port: str
) -> None:
    caller = await make_caller(closed_port, attempts=1, breaker_fail_max=2)

    for _ in range(2):
        with pytest.raises(DependencyUnavailable):
            await caller.dep().get("/x")

    with pytest.raises(CircuitOpen):
        await caller.dep().get("/x")
    assert caller.breaker_state() == OPEN


async def test_breaker_opens_on_timeouts(make_caller: MakeCaller, upstream: Upstream) -> None:
    upstream.delay_s = 1.0
    caller = await make_caller(upstream.url, attempts=1, timeout_s=0.05, breaker_fail_max=2)

    for _ in range(2):
        with pytest.raises(DependencyTimeout):
            await caller.dep().get("/x")

    assert caller.breaker_state() == OPEN


async def test_client_errors_4xx_do_not_count_against_the_breaker(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 404
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=2)

    statuses = [(await caller.dep().get("/x")).status for _ in range(5)]

    assert statuses == [404] * 5
    assert caller.breaker_state() == CLOSED


async def test_open_breaker_half_opens_after_the_reset_timeout(
    make_caller: MakeCaller, upstream: Upstream, clock: FakeClock
) -> None:
    upstream.status = 503
    caller = await make_caller(
        upstream.url, attempts=1, breaker_fail_max=1, breaker_reset_s=RESET_S, clock=clock
    )
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/x")
    assert caller.breaker_state() == OPEN
    upstream.status = 200
    upstream.hold()  # keep the trial call in flight to observe half-open

    clock.advance(RESET_S)
    trial = asyncio.create_task(caller.dep().get("/trial"))
    await upstream.wait_for_hits(2)

    assert caller.breaker_state() == HALF_OPEN
    upstream.release()
    assert (await trial).status == 200


async def test_half_open_breaker_closes_again_on_a_successful_trial(
    make_caller: MakeCaller, upstream: Upstream, clock: FakeClock
) -> None:
    upstream.status = 503
    caller = await make_caller(
        upstream.url, attempts=1, breaker_fail_max=1, breaker_reset_s=RESET_S, clock=clock
    )
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/x")
    upstream.status = 200
    clock.advance(RESET_S)

    assert (await caller.dep().get("/trial")).status == 200

    assert caller.breaker_state() == CLOSED
    assert [(await caller.dep().get("/after")).status for _ in range(3)] == [200] * 3
    assert upstream.hits == 5


async def test_a_failing_trial_call_reopens_the_breaker(
    make_caller: MakeCaller, upstream: Upstream, clock: FakeClock
) -> None:
    upstream.status = 503
    caller = await make_caller(
        upstream.url, attempts=1, breaker_fail_max=1, breaker_reset_s=RESET_S, clock=clock
    )
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/x")
    clock.advance(RESET_S)

    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/trial")  # the trial reaches the upstream and fails

    assert upstream.hits == 2
    assert caller.breaker_state() == OPEN
    with pytest.raises(CircuitOpen):
        await caller.dep().get("/x")
    assert upstream.hits == 2


async def test_breaker_state_is_exported_on_the_metrics_endpoint(
    make_caller: MakeCaller, upstream: Upstream, aiohttp_client: AiohttpClient
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=1)
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/x")

    client: Client = await aiohttp_client(caller.server)
    text = await (await client.get("/metrics")).text()

    assert 'chaosbed_circuit_breaker_state{dependency="up",service="caller"} 1.0' in text


async def open_then_wait_for_half_open(
    caller: Caller, upstream: Upstream, clock: FakeClock
) -> None:
    """Trip the breaker (fail_max=1) with one 503, then move `clock` to its reset timeout."""
    upstream.script = [503]
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/trip")
    assert caller.breaker_state() == OPEN
    clock.advance(RESET_S)


# -- half-open admits a bounded number of trials -----------------------------


async def test_half_open_lets_exactly_one_of_100_concurrent_calls_reach_the_dependency(
    make_caller: MakeCaller, upstream: Upstream, clock: FakeClock
) -> None:
    caller = await make_caller(
        upstream.url, attempts=1, breaker_fail_max=1, breaker_reset_s=RESET_S, bulkhead_size=200,
        clock=clock,
    )  # fmt: skip
    await open_then_wait_for_half_open(caller, upstream, clock)
    upstream.hold()

    calls = [asyncio.create_task(caller.dep().get(f"/c/{i}")) for i in range(100)]
    await until(  # every call either reached the upstream (and is held there) or was refused
        lambda: upstream.hits - 1 + sum(c.done() for c in calls) == len(calls)
    )
    upstream.release()
    results = await asyncio.gather(*calls, return_exceptions=True)

    assert upstream.hits == 2  # the tripping call and the one trial
    assert sum(isinstance(r, CircuitOpen) for r in results) == 99
    assert caller.breaker_state() == CLOSED  # the trial succeeded
    assert caller.outcome("short_circuited") == 99


async def test_half_open_admits_the_configured_number_of_trial_calls(
    make_caller: MakeCaller, upstream: Upstream, clock: FakeClock
) -> None:
    caller = await make_caller(
        upstream.url, attempts=1, breaker_fail_max=1, breaker_reset_s=RESET_S,
        breaker_half_open_calls=3, clock=clock,
    )  # fmt: skip
    await open_then_wait_for_half_open(caller, upstream, clock)
    upstream.hold()

    calls = [asyncio.create_task(caller.dep().get(f"/c/{i}")) for i in range(10)]
    await until(lambda: upstream.hits - 1 + sum(c.done() for c in calls) == len(calls))
    hits_while_half_open = upstream.hits
    upstream.release()
    results = await asyncio.gather(*calls, return_exceptions=True)

    assert hits_while_half_open == 1 + 3
    assert sum(isinstance(r, CircuitOpen) for r in results) == 7
    assert caller.breaker_state() == CLOSED


async def test_a_cancelled_trial_gives_its_slot_to_the_next_call(
    make_caller: MakeCaller, upstream: Upstream, clock: FakeClock
) -> None:
    caller = await make_caller(
        upstream.url, attempts=1, breaker_fail_max=1, breaker_reset_s=RESET_S, clock=clock
    )
    await open_then_wait_for_half_open(caller, upstream, clock)
    upstream.hold()
    trial = asyncio.create_task(caller.dep().get("/abandoned"))
    await upstream.wait_for_hits(2)

    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    upstream.release()

    assert (await caller.dep().get("/next-trial")).status == 200
    assert caller.breaker_state() == CLOSED


@dataclass
class Switchboard:
    """An upstream whose answer depends on the path: /fail/... answers 503 at
    once; any other path answers 200, after waiting for its event in `held`."""

    held: dict[str, asyncio.Event] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.paths.append(request.path)
        if request.path.startswith("/fail"):
            return web.json_response({}, status=503)
        if request.path in self.held:
            await self.held[request.path].wait()
        return web.json_response({"path": request.path})

    def hold(self, path: str) -> None:
        self.held[path] = asyncio.Event()

    def release(self, path: str) -> None:
        self.held[path].set()

    async def arrived(self, path: str) -> None:
        await until(lambda: path in self.paths, timeout_s=2, what=f"{path} arrived")


@pytest.fixture
async def switchboard(aiohttp_server: Any) -> AsyncIterator[Switchboard]:
    board = Switchboard()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", board.handle)
    server = await aiohttp_server(app)
    board.url = str(server.make_url("")).rstrip("/")
    yield board
    for event in board.held.values():
        event.set()


async def test_a_late_success_of_another_trial_does_not_close_the_breaker_behind_a_failed_one(
    make_caller: MakeCaller, switchboard: Switchboard, clock: FakeClock
) -> None:
    caller = await make_caller(
        switchboard.url, attempts=1, breaker_fail_max=1, breaker_reset_s=RESET_S,
        breaker_half_open_calls=2, clock=clock,
    )  # fmt: skip
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/fail/trip")
    clock.advance(RESET_S)
    switchboard.hold("/slow-trial")
    slow_trial = asyncio.create_task(caller.dep().get("/slow-trial"))
    await switchboard.arrived("/slow-trial")

    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/fail/trial")  # the other trial fails: open again
    switchboard.release("/slow-trial")
    assert (await slow_trial).status == 200  # ... and then this one succeeds, late

    assert caller.breaker_state() == OPEN
    with pytest.raises(CircuitOpen):
        await caller.dep().get("/x")
    assert "/x" not in switchboard.paths


async def test_a_call_sent_before_the_breaker_opened_cannot_close_it_when_it_answers_late(
    make_caller: MakeCaller, switchboard: Switchboard, clock: FakeClock
) -> None:
    caller = await make_caller(
        switchboard.url, attempts=1, breaker_fail_max=1, breaker_reset_s=RESET_S, clock=clock
    )
    switchboard.hold("/sent-while-closed")
    early = asyncio.create_task(caller.dep().get("/sent-while-closed"))
    await switchboard.arrived("/sent-while-closed")
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/fail/trip")
    clock.advance(RESET_S)
    switchboard.hold("/trial")
    trial = asyncio.create_task(caller.dep().get("/trial"))
    await switchboard.arrived("/trial")

    switchboard.release("/sent-while-closed")
    assert (await early).status == 200

    assert caller.breaker_state() == HALF_OPEN  # the trial, not the early call, decides
    switchboard.release("/trial")
    assert (await trial).status == 200
    assert caller.breaker_state() == CLOSED


# -- only the dependency's failures count -------------------------------------


async def test_cancelled_calls_to_a_healthy_dependency_do_not_open_its_breaker(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=3)
    upstream.hold()
    calls = [asyncio.create_task(caller.dep().get(f"/c/{i}")) for i in range(3)]
    await upstream.wait_for_hits(3)

    for call in calls:
        call.cancel()
    await asyncio.gather(*calls, return_exceptions=True)
    upstream.release()

    assert caller.breaker_state() == CLOSED
    assert caller.dep().breaker.fail_counter == 0
    assert caller.outcome("cancelled") == 3
    assert (await caller.dep().get("/after")).status == 200


async def test_a_timeout_cut_short_by_the_callers_deadline_is_not_the_dependencys_failure(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.delay_s = 1.0
    caller = await make_caller(upstream.url, attempts=3, timeout_s=5.0, breaker_fail_max=1)

    for _ in range(3):
        ctx = RequestContext(request_id="r", cohort="none", deadline=time.monotonic() + 0.05)
        with bound(ctx), pytest.raises(DeadlineExceeded):
            await caller.dep().get("/slow")

    assert caller.breaker_state() == CLOSED
    assert caller.outcome("deadline") == 3
    assert caller.outcome("timeout") == 0
    assert upstream.hits == 3  # one try each: the caller's deadline is never retried


async def test_an_unexpected_error_in_our_own_code_is_neither_success_nor_failure(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    caller = await make_caller(upstream.url, attempts=3, breaker_fail_max=1)

    with pytest.raises(TypeError):
        await caller.dep().request("POST", "/x", json={"not JSON": object()})

    assert caller.outcome("success") == 0
    assert caller.outcome("internal") == 1
    assert caller.breaker_state() == CLOSED
    assert caller.dep().bulkhead.in_flight == 0
    assert upstream.hits == 0


async def test_429_counts_against_the_breaker_and_is_not_retried(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 429
    caller = await make_caller(upstream.url, attempts=3, breaker_fail_max=2)

    for _ in range(2):
        with pytest.raises(DependencyOverloaded) as caught:
            await caller.dep().get("/x")
        assert caught.value.status == 429

    assert upstream.hits == 2
    assert caller.retries() == 0
    assert caller.breaker_state() == OPEN


# -- the failure rate over a sliding window ----------------------------------


async def test_a_dependency_failing_two_calls_in_three_opens_the_breaker_by_rate(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.script = [503, 503, 200] * 10
    caller = await make_caller(
        upstream.url, attempts=1, breaker_fail_max=5, breaker_failure_rate=0.5,
        breaker_min_calls=6, breaker_window_s=10.0, breaker_reset_s=30,
    )  # fmt: skip

    sent = 0
    while caller.breaker_state() != OPEN and sent < 30:
        sent += 1
        try:
            await caller.dep().get("/x")
        except DependencyHTTPError:
            pass

    assert sent == 7  # 5 failures in 7 calls: the first failure once 6 calls are in
    with pytest.raises(CircuitOpen):
        await caller.dep().get("/x")
    assert upstream.hits == 7


async def test_the_failure_rate_is_not_judged_before_the_minimum_number_of_calls(
    make_caller: MakeCaller, upstream: Upstream
) -> None:
    upstream.status = 503
    caller = await make_caller(
        upstream.url, attempts=1, breaker_failure_rate=0.5, breaker_min_calls=10
    )

    for _ in range(9):
        with pytest.raises(DependencyHTTPError):
            await caller.dep().get("/x")

    assert caller.breaker_state() == CLOSED
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/x")
    assert caller.breaker_state() == OPEN


# -- the breaker on its own, on a fake clock ---------------------------------


def test_failures_older_than_the_window_are_forgotten(clock: FakeClock) -> None:
    breaker = CircuitBreaker("up", failure_rate=0.5, min_calls=4, window_s=10.0, clock=clock)
    for _ in range(3):
        breaker.failure(breaker.admit())
    clock.advance(11.0)

    breaker.success(breaker.admit())
    breaker.failure(breaker.admit())  # 1 of 2 in the window: too few calls to judge

    assert breaker.current_state == "closed"
    assert (breaker.window.calls, breaker.window.failures) == (2, 1)


def test_the_window_slides_bucket_by_bucket(clock: FakeClock) -> None:
    breaker = CircuitBreaker("up", failure_rate=0.5, min_calls=4, window_s=10.0, clock=clock)
    for _ in range(3):
        breaker.failure(breaker.admit())
    clock.advance(5.0)
    breaker.success(breaker.admit())
    clock.advance(5.5)  # the three failures leave the window, the success stays

    breaker.failure(breaker.admit())

    assert (breaker.window.calls, breaker.window.failures) == (2, 1)
    assert breaker.current_state == "closed"


def test_the_open_breaker_half_opens_once_the_reset_timeout_has_passed(clock: FakeClock) -> None:
    breaker = CircuitBreaker("up", fail_max=1, reset_s=5.0, clock=clock)
    breaker.failure(breaker.admit())
    clock.advance(4.9)
    with pytest.raises(CircuitOpen):
        breaker.admit()

    clock.advance(0.2)
    permit = breaker.admit()

    assert breaker.current_state == "half-open"
    breaker.success(permit)
    assert breaker.current_state == "closed"


def test_closing_starts_a_fresh_window(clock: FakeClock) -> None:
    breaker = CircuitBreaker("up", fail_max=1, min_calls=2, reset_s=1.0, clock=clock)
    breaker.failure(breaker.admit())
    clock.advance(1.0)
    breaker.success(breaker.admit())

    assert breaker.current_state == "closed"
    assert (breaker.window.calls, breaker.window.failures, breaker.fail_counter) == (0, 0, 0)


@pytest.mark.parametrize(
    "bad",
    [{"fail_max": 0}, {"min_calls": 0}, {"half_open_calls": 0}, {"failure_rate": 0.0},
     {"failure_rate": 1.5}, {"window_s": 0.0}],
)  # fmt: skip
def test_unusable_breaker_parameters_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker("up", **bad)
