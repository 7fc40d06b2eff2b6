"""The application-layer driver against a real catalog's control API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from chaos.experiment.model import AppFault, Step
from chaos.faults.app import AppFaultDriver, step_tag
from chaos.faults.base import Injection
from chaos.faults.control_client import ControlClient
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
