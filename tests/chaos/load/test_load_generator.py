"""The open-loop generator against real aiohttp upstreams on loopback."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from chaos.experiment.model import LoadSpec
from chaos.load import (
    LoadConfig,
    LoadGenerator,
    LoadResults,
    Sample,
    Targets,
    cohort_of,
    device_type_of,
)
from tests.waiting import until

from .conftest import Upstream

ALL = {"homepage": 1.0, "play": 1.0, "title": 1.0, "preferences": 1.0}


def make_config(
    targets: Targets,
    *,
    rate: float = 50.0,
    duration: float = 1.0,
    timeout: float = 2.0,
    mix: dict[str, float] = ALL,
    seed: int = 1,
    **limits: float,
) -> LoadConfig:
    spec = LoadSpec(rate=rate, mix=mix, experiment_percent=50.0, timeout=timeout, seed=seed)
    return LoadConfig(spec, duration, targets, catalog_size=100, **limits)  # type: ignore[arg-type]


async def drive(config: LoadConfig) -> tuple[LoadResults, list[Sample]]:
    samples: list[Sample] = []
    results = await LoadGenerator(config, observers=[samples.append]).run()
    return results, samples


async def test_achieved_rate_is_near_the_target_and_every_arrival_is_sent(
    upstream: Upstream,
) -> None:
    config = make_config(upstream.targets(), rate=100.0, duration=2.0, seed=9)
    results, samples = await drive(config)
    assert results.arrivals == results.sent == len(samples) == len(upstream.received)
    assert results.achieved_rate == pytest.approx(100.0, rel=0.25)  # Poisson count, noisy box
    assert results.duration_s == pytest.approx(2.0, abs=0.1)
    assert all(s.outcome == "ok" for s in samples)


def offsets(samples: list[Sample]) -> list[float]:
    times = sorted(s.scheduled_at for s in samples)
    return [t - times[0] for t in times]


async def test_the_same_seed_repeats_the_schedule_whatever_the_mix(upstream: Upstream) -> None:
    _, first = await drive(make_config(upstream.targets(), rate=50.0, duration=0.6, seed=5))
    _, again = await drive(
        make_config(upstream.targets(), rate=50.0, duration=0.6, seed=5, mix={"title": 1.0})
    )
    _, other = await drive(make_config(upstream.targets(), rate=50.0, duration=0.6, seed=6))
    assert offsets(first) == pytest.approx(offsets(again), abs=1e-6)
    assert len(offsets(first)) != len(offsets(other)) or offsets(first) != pytest.approx(
        offsets(other), abs=1e-6
    )


async def test_every_request_carries_cohort_request_id_and_deadline_headers(
    upstream: Upstream,
) -> None:
    await drive(make_config(upstream.targets(), rate=80.0, duration=1.0, timeout=1.5))
    assert len(upstream.received) > 20
    request_ids = set()
    for request in upstream.received:
        member = (
            request.path.rsplit("/", 1)[1] if request.body is None else request.body.get("member")
        )
        if request.method == "PATCH":
            member = request.path.rsplit("/", 1)[1]
            assert len(request.headers["Idempotency-Key"]) >= 16
        if member is not None and member.startswith("m-"):
            assert request.headers["X-Chaos-Cohort"] == cohort_of(member, 50.0)
        assert request.headers["X-Chaos-Cohort"] in ("experiment", "control")
        assert 0 < int(request.headers["X-Deadline-Ms"]) <= 1500
        request_ids.add(request.headers["X-Request-Id"])
    assert len(request_ids) == len(upstream.received)


async def test_every_request_carries_its_members_device_type(upstream: Upstream) -> None:
    await drive(make_config(upstream.targets(), rate=80.0, duration=1.0, timeout=1.5))
    assert len(upstream.received) > 20
    for request in upstream.received:
        if request.path.startswith(("/recommendations/", "/profiles/")):
            member = request.path.rsplit("/", 1)[1]
            assert request.headers["X-Chaosbed-Device-Type"] == device_type_of(member)
        assert request.headers["X-Chaosbed-Device-Type"] in ("tv", "mobile", "web")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(503, "error"), (429, "error"), (500, "error"), (404, "ok"), (403, "ok")],
)
async def test_outcome_follows_the_upstream_status(
    upstream: Upstream, status: int, outcome: str
) -> None:
    upstream.status = status
    _, samples = await drive(make_config(upstream.targets(), rate=40.0, duration=0.5))
    assert samples and {s.outcome for s in samples} == {outcome}
    assert {s.status for s in samples} == {status}


async def test_a_closed_port_is_unreachable(closed_url: str) -> None:
    targets = Targets(closed_url, closed_url, closed_url, closed_url)
    _, samples = await drive(make_config(targets, rate=40.0, duration=0.5))
    assert samples and {s.outcome for s in samples} == {"unreachable"}


async def test_an_upstream_slower_than_the_timeout_is_a_timeout_at_the_timeout(
    upstream: Upstream,
) -> None:
    upstream.delay = 2.0
    _, samples = await drive(make_config(upstream.targets(), rate=40.0, duration=0.5, timeout=0.2))
    assert samples and {s.outcome for s in samples} == {"timeout"}
    assert all(0.19 <= s.latency < 1.0 for s in samples)


async def closed_loop_latencies(url: str, duration: float) -> list[tuple[float, float]]:
    """What a closed-loop client measures: one request at a time, each sent when the last ends."""
    loop = asyncio.get_running_loop()
    seen: list[tuple[float, float]] = []
    end = loop.time() + duration
    async with aiohttp.ClientSession() as session:
        while loop.time() < end:
            sent = loop.time()
            async with session.get(f"{url}/titles/1") as response:
                await response.read()
            seen.append((sent, loop.time() - sent))
    return seen


def stall_after(upstream: Upstream, delay: float, length: float) -> dict[str, float]:
    """From `delay` seconds on, the upstream holds every request until `length` s later."""
    loop = asyncio.get_running_loop()
    window: dict[str, float] = {}

    def begin() -> None:
        window["start"] = loop.time()
        window["end"] = upstream.stall_until = loop.time() + length

    loop.call_later(delay, begin)
    return window


async def test_no_coordinated_omission_arrivals_during_a_stall_carry_their_wait(
    upstream: Upstream,
) -> None:
    window = stall_after(upstream, delay=0.4, length=0.5)
    _, samples = await drive(make_config(upstream.targets(), rate=100.0, duration=1.2, seed=4))
    start, end = window["start"], window["end"]
    during = [s for s in samples if start + 0.02 <= s.scheduled_at <= end - 0.02]
    assert len(during) >= 25  # ~46 expected at 100/s
    for sample in during:
        # measured from the scheduled time: the wait for the stall to end is in it
        assert sample.latency >= end - sample.scheduled_at - 0.01
    open_loop_slow = sum(s.latency > 0.1 for s in samples)

    upstream.stall_until = 0.0
    window = stall_after(upstream, delay=0.4, length=0.5)
    closed = await closed_loop_latencies(upstream.url, duration=1.2)
    closed_loop_slow = sum(latency > 0.1 for _, latency in closed)
    # a closed loop sees the 0.5 s stall once (it simply stops sending), the open loop
    # sees every member who arrived during it
    assert closed_loop_slow <= 2
    assert open_loop_slow >= 10 * closed_loop_slow


async def test_arrivals_beyond_the_in_flight_cap_fail_as_client_overloaded(
    upstream: Upstream,
) -> None:
    upstream.delay = 0.6
    config = make_config(upstream.targets(), rate=100.0, duration=0.5, max_in_flight=3)
    results, samples = await drive(config)
    overloaded = [s for s in samples if s.outcome == "client_overloaded"]
    assert results.sent <= 4  # 3 in flight; one more may start after the first answer
    assert len(overloaded) == results.arrivals - results.sent >= 20
    assert len(samples) == results.arrivals  # none skipped silently
    assert all(s.latency == 0.0 and s.status is None for s in overloaded)


async def test_stop_ends_the_run_at_once_cancelling_requests_in_flight(upstream: Upstream) -> None:
    upstream.delay = 30.0
    generator = LoadGenerator(
        make_config(upstream.targets(), rate=50.0, duration=60.0, timeout=50.0)
    )
    loop = asyncio.get_running_loop()
    started_at = loop.time()
    task = asyncio.create_task(generator.run())
    await until(lambda: len(upstream.received) > 5, what="requests in flight")
    stopped_at = loop.time()
    generator.stop()
    results = await asyncio.wait_for(task, 5.0)
    assert loop.time() - stopped_at < 1.0
    assert results.stopped_early
    assert results.cancelled == results.sent > 5
    # the run lasted until stop (not its planned 60 s), however slow the machine
    assert results.duration_s == pytest.approx(stopped_at - started_at, abs=0.3)
    assert generator.progress().in_flight == 0


async def test_a_run_waits_for_answers_still_due_after_the_last_arrival(upstream: Upstream) -> None:
    upstream.delay = 0.3
    results, samples = await drive(make_config(upstream.targets(), rate=50.0, duration=0.5))
    assert results.cancelled == 0 and not results.stopped_early
    assert len(samples) == results.arrivals and {s.outcome for s in samples} == {"ok"}


async def test_results_add_up_per_second_and_per_journey(upstream: Upstream) -> None:
    results, samples = await drive(make_config(upstream.targets(), rate=60.0, duration=2.0))
    assert sum(s.count for s in results.seconds) == results.arrivals == len(samples)
    assert {s.second for s in results.seconds} == {0, 1}
    assert sum(t.arrivals for t in results.journeys) == results.arrivals
    assert all(s.p99_ms is not None and s.p99_ms >= (s.p50_ms or 0) for s in results.seconds)
    payload = results.to_json()
    assert payload["target_rate"] == 60.0 and len(payload["seconds"]) == len(results.seconds)


async def test_against_the_real_services_every_journey_gets_a_good_answer(
    real_stack: Targets, tmp_path: Path
) -> None:
    results, samples = await drive(make_config(real_stack, rate=40.0, duration=1.5, seed=2))
    bad = [s for s in samples if s.outcome != "ok"]
    assert not bad, bad[:5]
    assert {t.journey for t in results.journeys if t.arrivals} == set(ALL)


async def test_arrivals_sent_late_by_a_blocked_loop_count_the_delay_in_latency_and_as_late(
    upstream: Upstream,
) -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, time.sleep, 0.3)  # the generator's own process stalls for 300 ms
    results, samples = await drive(make_config(upstream.targets(), rate=100.0, duration=1.0))
    delayed = [s for s in samples if s.lag > 0.1]
    assert len(delayed) >= 10  # ~30 were due during the stall
    assert all(s.latency >= s.lag for s in delayed)
    assert results.late >= len(delayed)
    assert results.max_lag_ms >= 250


async def test_connection_per_request_opens_a_connection_for_each_request(
    upstream: Upstream,
) -> None:
    """What a Service's address needs (it balances connections): with pooling, one
    client's requests share a few connections; with connection_per_request, each
    request is on its own."""
    pooled, _ = await drive(make_config(upstream.targets(), rate=100.0, duration=1.0))
    pooled_peers = {r.peer for r in upstream.received}
    assert len(upstream.received) == pooled.sent
    assert len(pooled_peers) < pooled.sent / 4
    upstream.received.clear()
    config = make_config(upstream.targets(), rate=100.0, duration=1.0, seed=2)
    each, _ = await drive(replace(config, connection_per_request=True))
    assert len(upstream.received) == each.sent
    assert len({r.peer for r in upstream.received}) == each.sent
