"""The circuit breaker of a Dependency: opens, fails fast, half-opens, closes.

The upstream is a real aiohttp app that counts the requests it receives, so
"fails fast without touching the network" is measured where it matters.
Breaker state is read back from chaosbed_circuit_breaker_state
(0 closed, 1 open, 2 half-open).
"""

from __future__ import annotations

import asyncio

import pytest

from services.common import (
    METRICS,
    CircuitOpen,
    DependencyHTTPError,
    DependencyTimeout,
    DependencyUnavailable,
)

CLOSED, OPEN, HALF_OPEN = 0.0, 1.0, 2.0
RESET_S = 0.2


async def test_breaker_starts_closed_with_its_state_series_present(make_caller, upstream):
    caller = await make_caller(upstream.url)

    sample = caller.app[METRICS].registry.get_sample_value(
        "chaosbed_circuit_breaker_state", {"service": "caller", "dependency": "up"}
    )

    assert sample == CLOSED


async def test_breaker_opens_after_fail_max_consecutive_failures(make_caller, upstream):
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=3)

    for _ in range(3):
        with pytest.raises(DependencyHTTPError):
            await caller.dep().get("/x")

    assert caller.breaker_state() == OPEN
    assert upstream.hits == 3


async def test_open_breaker_fails_fast_without_touching_the_network(make_caller, upstream):
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


async def test_breaker_counts_only_consecutive_failures(make_caller, upstream):
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


async def test_breaker_opens_on_a_down_dependency(make_caller, closed_port):
    caller = await make_caller(closed_port, attempts=1, breaker_fail_max=2)

    for _ in range(2):
        with pytest.raises(DependencyUnavailable):
            await caller.dep().get("/x")

    with pytest.raises(CircuitOpen):
        await caller.dep().get("/x")
    assert caller.breaker_state() == OPEN


async def test_breaker_opens_on_timeouts(make_caller, upstream):
    upstream.delay_s = 1.0
    caller = await make_caller(upstream.url, attempts=1, timeout_s=0.05, breaker_fail_max=2)

    for _ in range(2):
        with pytest.raises(DependencyTimeout):
            await caller.dep().get("/x")

    assert caller.breaker_state() == OPEN


async def test_client_errors_4xx_do_not_count_against_the_breaker(make_caller, upstream):
    upstream.status = 404
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=2)

    statuses = [(await caller.dep().get("/x")).status for _ in range(5)]

    assert statuses == [404] * 5
    assert caller.breaker_state() == CLOSED


async def test_open_breaker_half_opens_after_the_reset_timeout(make_caller, upstream):
    upstream.status = 503
    caller = await make_caller(
        upstream.url, attempts=1, breaker_fail_max=1, breaker_reset_s=RESET_S
    )
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/x")
    assert caller.breaker_state() == OPEN
    upstream.status = 200
    upstream.hold()  # keep the trial call in flight to observe half-open

    await asyncio.sleep(RESET_S + 0.05)
    trial = asyncio.create_task(caller.dep().get("/trial"))
    await upstream.wait_for_hits(2)

    assert caller.breaker_state() == HALF_OPEN
    upstream.release()
    assert (await trial).status == 200


async def test_half_open_breaker_closes_again_on_a_successful_trial(make_caller, upstream):
    upstream.status = 503
    caller = await make_caller(
        upstream.url, attempts=1, breaker_fail_max=1, breaker_reset_s=RESET_S
    )
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/x")
    upstream.status = 200
    await asyncio.sleep(RESET_S + 0.05)

    assert (await caller.dep().get("/trial")).status == 200

    assert caller.breaker_state() == CLOSED
    assert [(await caller.dep().get("/after")).status for _ in range(3)] == [200] * 3
    assert upstream.hits == 5


async def test_a_failing_trial_call_reopens_the_breaker(make_caller, upstream):
    upstream.status = 503
    caller = await make_caller(
        upstream.url, attempts=1, breaker_fail_max=1, breaker_reset_s=RESET_S
    )
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/x")
    await asyncio.sleep(RESET_S + 0.05)

    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/trial")  # the trial reaches the upstream and fails

    assert upstream.hits == 2
    assert caller.breaker_state() == OPEN
    with pytest.raises(CircuitOpen):
        await caller.dep().get("/x")
    assert upstream.hits == 2


async def test_breaker_state_is_exported_on_the_metrics_endpoint(
    make_caller, upstream, aiohttp_client
):
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=1)
    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/x")

    client = await aiohttp_client(caller.server)
    text = await (await client.get("/metrics")).text()

    assert 'chaosbed_circuit_breaker_state{dependency="up",service="caller"} 1.0' in text
