"""The scrape backend against the real catalog app, its clock moved by hand."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from chaos.experiment.model import Availability, Latency, Objective, Slo
from chaos.slo import ScrapeReader, ScrapeTarget

from .conftest import Clock, Stack

SERVER_OK = Slo("ok", Availability("catalog", source="server"), Objective(">=", 99), window=1.0)
EDGE_OK = Slo("edge-ok", Availability("catalog"), Objective(">=", 99), window=1.0)


async def get(stack: Stack, path: str, times: int = 1) -> None:
    for _ in range(times):
        async with stack.members.session.get(stack.catalog.make_url(path)) as response:
            await response.read()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_window_without_traffic_is_no_data_not_a_hundred_percent(stack: Stack) -> None:
    clock = Clock()
    async with aiohttp.ClientSession() as session:
        reader = ScrapeReader(stack.targets(), session=session, clock=clock)
        await reader.scrape_once()
        clock.now += 1
        await reader.scrape_once()
        assert await reader.value(SERVER_OK) is None
        assert await reader.value(EDGE_OK) is None


async def test_server_availability_is_the_share_of_member_requests_not_failed(stack: Stack) -> None:
    await stack.fault({"kind": "error", "route": "/titles/{id}", "status": 503, "ttl_s": 60})
    await get(stack, "/popular?region=US&limit=3")
    await get(stack, "/titles/1")
    clock = Clock()
    async with aiohttp.ClientSession() as session:
        reader = ScrapeReader(stack.targets(), session=session, clock=clock)
        await reader.scrape_once()  # good 1, bad 1: the series exist from here
        await get(stack, "/popular?region=US&limit=3", times=19)
        await get(stack, "/titles/1", times=6)
        await reader.scrape_once()  # also at t0: a Prometheus would stamp it so too
        clock.now += 1
        await reader.scrape_once()
        # over [t0, t0+1]: 19 good, 6 bad; /metrics scrapes and /_chaos are not member traffic
        assert await reader.value(SERVER_OK) == pytest.approx(100 * 19 / 25)


async def test_server_latency_is_interpolated_inside_the_bucket_it_falls_in(stack: Stack) -> None:
    await stack.fault({"kind": "latency", "route": "/titles/{id}", "delay_ms": 220, "ttl_s": 60})
    await get(stack, "/titles/1")
    clock = Clock()
    async with aiohttp.ClientSession() as session:
        reader = ScrapeReader(stack.targets(), session=session, clock=clock)
        await reader.scrape_once()
        await get(stack, "/titles/2", times=4)
        clock.now += 1
        await reader.scrape_once()
        # all 4 in (0.2, 0.3]: the median is halfway into it
        slo = Slo("fast", Latency("catalog", 50, source="server"), Objective("<", 300), 1.0)
        assert await reader.value(slo) == pytest.approx(250.0)


async def test_a_target_that_is_down_is_a_failed_scrape_not_an_error(stack: Stack) -> None:
    ghost = ScrapeTarget("ghost", f"http://127.0.0.1:{closed_port()}/metrics")
    clock = Clock()
    async with aiohttp.ClientSession() as session:
        reader = ScrapeReader([*stack.targets(), ghost], session=session, clock=clock)
        up = await reader.scrape_once()
        assert up == {"catalog": True, "profiles": True, "recommendations": True, "load": True,
                      "ghost": False}  # fmt: skip
        assert "ghost" in reader.last_errors
        clock.now += 1
        await reader.scrape_once()
        assert await reader.max_over("up", {"job": "ghost"}, clock.now - 5) == 0.0
        ghost_slo = Slo("ghost", Availability("ghost", source="server"), Objective(">=", 99))
        assert await reader.value(ghost_slo) is None


async def test_increase_adds_back_a_counter_reset_by_a_restart() -> None:
    clock = Clock(93.0)
    reader = ScrapeReader([], clock=clock)
    calls = "chaosbed_dependency_calls_total"
    labels = {"service": "playback", "dependency": "catalog", "outcome": "success"}
    for t, value in [(90.0, 40.0), (91.0, 50.0), (92.0, 4.0), (93.0, 9.0)]:
        reader.history.add(t, [(calls, {**labels, "job": "playback"}, value)])
    # +10, restart (0 -> 4), +5: 19 over [90, 93], sampled edge to edge
    assert await reader.increase(calls, {"dependency": "catalog"}, 90.0) == pytest.approx(19.0)


async def test_max_over_remembers_a_breaker_that_opened_and_closed_again() -> None:
    clock = Clock(100.0)
    reader = ScrapeReader([], clock=clock)
    state = "chaosbed_circuit_breaker_state"
    labels = {"service": "recommendations", "dependency": "catalog"}
    for t, value in [(95.0, 0.0), (96.0, 1.0), (97.0, 0.0), (98.0, 0.0)]:
        reader.history.add(t, [(state, labels, value)])
    assert await reader.max_over(state, labels, since=94.0) == 1.0  # 1 = open
    assert await reader.max_over(state, labels, since=97.5) == 0.0
    assert await reader.max_over(state, {**labels, "dependency": "profiles"}, since=94.0) is None
