"""An application fault is verified by its effect: its rule matched requests,
and a rule its service lost to a restart is re-injected or fails the step,
never reported as expired. Against a real catalog on loopback, restarted on
its own port."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from chaos.experiment.model import AppFault, Step
from chaos.faults.app import AppFaultDriver
from chaos.faults.base import Injection
from chaos.faults.control_client import ControlClient
from chaos.faults.errors import NoEffect
from services.catalog.app import create_app as catalog_app
from services.catalog.settings import CatalogSettings
from services.common import ServiceSettings

from ..conftest import free_ports

TOKEN = "app-effect-test-token"
RUN_TAG = "chaosbed-run-effect"


class Catalog:
    """A real catalog that can be restarted on its port (its rules die with it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        settings = CatalogSettings(ServiceSettings("catalog", self.port, control_token=TOKEN))
        self._runner = web.AppRunner(catalog_app(settings), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@pytest.fixture
async def catalog() -> AsyncIterator[Catalog]:
    (port,) = free_ports(1)
    service = Catalog(port)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def driver(catalog: Catalog, session: aiohttp.ClientSession, recheck: float) -> AppFaultDriver:
    client = ControlClient({"catalog": catalog.url}, TOKEN, session)
    return AppFaultDriver(client, RUN_TAG, recheck=recheck)


def step(percent: float = 100.0, duration: float = 10.0) -> Step:
    fault = AppFault("error", target="catalog", route="/popular", status=503, percent=percent)
    return Step("popular-503", fault, offset=0.0, duration=duration)


async def call_popular(catalog: Catalog, session: aiohttp.ClientSession, times: int) -> None:
    for _ in range(times):
        async with session.get(f"{catalog.url}/popular") as resp:
            await resp.read()


async def injected(
    d: AppFaultDriver, s: Step, events: list[tuple[str, dict[str, Any]]]
) -> Injection:
    injection = Injection(
        s.name, "application", "", on_event=lambda what, **kw: events.append((what, kw))
    )
    await d.inject(s, injection, ttl=s.duration + 5)
    await d.verify(s, injection)
    return injection


async def test_a_rule_that_matched_requests_confirms_its_step(
    catalog: Catalog, session: aiohttp.ClientSession
) -> None:
    d = driver(catalog, session, recheck=0)
    s = step()
    injection = await injected(d, s, [])
    await call_popular(catalog, session, 3)

    await d.confirm_effect(s, injection, reader=None, since=time.time())  # type: ignore[arg-type]

    assert injection.handle["matched"] == 3
    assert "matched 3 request(s)" in injection.effect
    await d.rollback(s, injection)


async def test_a_rule_that_matched_no_request_fails_its_step_naming_it(
    catalog: Catalog, session: aiohttp.ClientSession
) -> None:
    d = driver(catalog, session, recheck=0)
    s = step(percent=0)
    injection = await injected(d, s, [])
    await call_popular(catalog, session, 5)

    with pytest.raises(NoEffect) as raised:
        await d.confirm_effect(s, injection, reader=None, since=time.time())  # type: ignore[arg-type]

    assert str(raised.value).startswith("fault popular-503: its rule on catalog matched no request")
    await d.rollback(s, injection)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_a_rule_lost_to_a_restart_is_reinjected_and_its_count_kept(
    catalog: Catalog, session: aiohttp.ClientSession
) -> None:
    d = driver(catalog, session, recheck=0.05)
    s = step()
    events: list[tuple[str, dict[str, Any]]] = []
    injection = await injected(d, s, events)
    first = injection.handle["rule_id"]
    await call_popular(catalog, session, 2)
    await until(lambda: injection.handle.get("matched") == 2)  # the re-check saw them

    await catalog.restart()
    await until(lambda: injection.handle["rule_id"] != first)
    await call_popular(catalog, session, 1)
    await d.confirm_effect(s, injection, reader=None, since=time.time())  # type: ignore[arg-type]

    ((what, detail),) = events
    assert what == "reinjected" and detail["lost"] == first and detail["lost_matched"] == 2
    assert detail["service"] == "catalog" and "restarted" in detail["why"]
    assert injection.handle["matched"] == 3
    await d.rollback(s, injection)
    assert "removed" in injection.rollback


async def test_a_rule_still_missing_at_the_steps_end_fails_it_naming_the_restart(
    catalog: Catalog, session: aiohttp.ClientSession
) -> None:
    d = driver(catalog, session, recheck=0)  # no re-check: the loss is found at the end
    s = step()
    injection = await injected(d, s, [])
    await call_popular(catalog, session, 2)
    await catalog.restart()

    with pytest.raises(NoEffect) as raised:
        await d.confirm_effect(s, injection, reader=None, since=time.time())  # type: ignore[arg-type]

    assert "catalog restarted" in str(raised.value)
    assert str(raised.value).startswith("fault popular-503:")


async def test_a_rule_lost_before_its_ttl_is_never_reported_as_expired(
    catalog: Catalog, session: aiohttp.ClientSession
) -> None:
    d = driver(catalog, session, recheck=0)
    s = step()
    injection = await injected(d, s, [])
    await catalog.restart()

    await d.rollback(s, injection)

    assert "expired" not in injection.rollback
    assert "catalog restarted" in injection.rollback


async def test_a_rule_that_ran_out_its_ttl_is_reported_as_expired(
    catalog: Catalog, session: aiohttp.ClientSession
) -> None:
    d = driver(catalog, session, recheck=0)
    s = step(duration=0.001)
    injection = Injection(s.name, "application", "")
    await d.inject(s, injection, ttl=0.001)  # the rule's TTL is its floor, 1 s
    control = ControlClient({"catalog": catalog.url}, TOKEN, session)
    rule_id = injection.handle["rule_id"]
    async with asyncio.timeout(5):  # until the catalog dropped it: its TTL ran out
        while any(r["id"] == rule_id for r in await control.list("catalog")):
            await asyncio.sleep(0.05)

    await d.rollback(s, injection)

    assert "had expired" in injection.rollback
