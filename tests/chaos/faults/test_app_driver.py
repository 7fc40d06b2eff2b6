"""The application-layer driver against a real catalog's control API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

import chaos.faults.app as app_module
from chaos.experiment.model import AppFault, Step
from chaos.faults.app import FINAL_LOOKS, AppFaultDriver, step_tag
from chaos.faults.base import Injection
from chaos.faults.control_client import ControlClient
from chaos.faults.errors import NotVerified
from services.catalog.app import create_app as catalog_app
from services.catalog.settings import CatalogSettings
from services.common import ServiceSettings

from ..conftest import free_ports

TOKEN = "app-driver-test-token"
RUN_TAG = "chaosbed-run-20261122T000000-abcdef"


@pytest.fixture
async def control() -> AsyncIterator[ControlClient]:
    (port,) = free_ports(1)
    runner = web.AppRunner(
        catalog_app(CatalogSettings(ServiceSettings("catalog", port, control_token=TOKEN), size=50))
    )
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as session:
        try:
            yield ControlClient({"catalog": f"http://127.0.0.1:{port}"}, TOKEN, session)
        finally:
            await runner.cleanup()


def step(name: str, kind: str = "error") -> Step:
    return Step(name, AppFault(kind, target="catalog"), offset=0.0, duration=10.0)  # type: ignore[arg-type]


async def test_each_steps_rules_carry_the_run_tag_and_the_steps_own(control: ControlClient) -> None:
    driver = AppFaultDriver(control, RUN_TAG)
    injection = Injection("errors", "application", "")

    await driver.inject(step("errors"), injection, ttl=15)

    (listed,) = await control.list("catalog")
    assert listed["tag"] == step_tag(RUN_TAG, "errors")
    assert listed["tag"].startswith(RUN_TAG + "/")


async def test_rolling_back_a_step_whose_add_went_unanswered_removes_only_that_step(
    control: ControlClient,
) -> None:
    driver = AppFaultDriver(control, RUN_TAG)
    first, second = Injection("first", "application", ""), Injection("second", "application", "")
    await driver.inject(step("first"), first, ttl=15)
    await driver.inject(step("second", "drop"), second, ttl=15)
    del first.handle["rule_id"]  # as if cancelled after the add landed, before its answer

    await driver.rollback(step("first"), first)

    assert [r["id"] for r in await control.list("catalog")] == [second.handle["rule_id"]]
    assert "1 rule(s)" in first.rollback


def test_a_step_tag_is_a_valid_rule_tag_whatever_the_step_is_called() -> None:
    from services.common.fault_rules import parse_tag

    for name in ("a b/c", "é—ü", "x" * 300, "step 1: latency -> catalog"):
        assert parse_tag(step_tag(RUN_TAG, name)) == step_tag(RUN_TAG, name)
    assert step_tag(RUN_TAG, "a b") != step_tag(RUN_TAG, "a-b")


class Flaky:
    """A TCP relay in front of the catalog that can drop connections: `drop(n)` closes
    every open one and the next `n` at once (the client sees the server hang up)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.to_drop = 0
        self.dropped = 0
        self.open: set[asyncio.StreamWriter] = set()

    def drop(self, count: int) -> None:
        self.to_drop = count
        for writer in list(self.open):
            writer.close()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.to_drop:
            self.to_drop -= 1
            self.dropped += 1
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self.open.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.open.difference_update((writer, up_writer))


@pytest.fixture
async def flaky_control() -> AsyncIterator[tuple[ControlClient, Flaky]]:
    """A real catalog, its control API reached through a relay that can drop connections."""
    port, relay_port = free_ports(2)
    runner = web.AppRunner(
        catalog_app(CatalogSettings(ServiceSettings("catalog", port, control_token=TOKEN), size=50))
    )
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    flaky = Flaky(port)
    relay = await asyncio.start_server(flaky.serve, "127.0.0.1", relay_port)
    async with aiohttp.ClientSession() as session:
        try:
            yield (
                ControlClient({"catalog": f"http://127.0.0.1:{relay_port}"}, TOKEN, session),
                flaky,
            )
        finally:
            relay.close()
            flaky.drop(0)
            await runner.cleanup()


@pytest.mark.parametrize("looks", [1, FINAL_LOOKS])
async def test_a_steps_count_unanswered_at_first_is_asked_again(
    flaky_control: tuple[ControlClient, Flaky], looks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service swamped by the fault's own effect answers its control API late: the
    count at the step's end is asked for again before the step counts as unverified
    (asked once, a dropped answer leaves it unverified)."""
    monkeypatch.setattr(app_module, "FINAL_LOOKS", looks)
    control, flaky = flaky_control
    driver = AppFaultDriver(control, RUN_TAG)
    injection = Injection("errors", "application", "")
    await driver.inject(step("errors"), injection, ttl=15)
    flaky.drop(1)
    if looks == 1:
        with pytest.raises(NotVerified, match=r"could not read its rule's count \(1 tries"):
            await driver.matched(step("errors"), injection)
    else:
        assert await driver.matched(step("errors"), injection) == 0
    assert flaky.dropped == 1


async def test_a_steps_count_never_answered_leaves_it_unverified(
    flaky_control: tuple[ControlClient, Flaky],
) -> None:
    control, flaky = flaky_control
    driver = AppFaultDriver(control, RUN_TAG)
    injection = Injection("errors", "application", "")
    await driver.inject(step("errors"), injection, ttl=15)
    flaky.drop(100)
    unread = f"could not read its rule's count \\({FINAL_LOOKS} tries"
    with pytest.raises(NotVerified, match=unread):
        await driver.matched(step("errors"), injection)
    assert flaky.dropped >= FINAL_LOOKS
