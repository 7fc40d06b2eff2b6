"""fault: monkey as a run sees it: its actions relayed as journal events, its
evidence the actions that had an effect (none is no evidence), and a rollback
that stops it and says how many actions it rolled back, or fails when one was
not. The actions go through a scripted driver on a stand-in runtime."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chaos.experiment.model import MonkeyFault, Step
from chaos.faults.base import Injection
from chaos.faults.errors import NoEffect, RollbackFailed
from chaos.faults.monkey import MonkeyDriver
from chaos.runtime.stack import STACK
from tests.chaos.runner.scripted import Driver

from ..runtime.standin_runtime import StandinRuntime

STEP = Step("1-monkey", MonkeyFault(menu=(("kill", 1.0),), mean_s=0.5, hold_s=0.1,
                                    targets=("catalog",)), 0.0, 3.0)  # fmt: skip


class Ready(StandinRuntime):
    """Every service of the stack, ready."""

    def status(self) -> list[Any]:
        class Status:
            def __init__(self, name: str) -> None:
                self.name, self.ready = name, True

        return [Status(spec.name) for spec in self.services]


async def play(driver: Driver, *, wait_for: str = "effect") -> tuple[MonkeyDriver, Injection]:
    monkey = MonkeyDriver([driver], Ready(services=STACK))
    monkey.reader = object()  # type: ignore[assignment]  # the scripted driver reads nothing
    events: list[dict[str, Any]] = []
    injection = Injection(STEP.name, "monkey", "a monkey")
    injection.on_event = lambda what, **detail: events.append({"event": what, **detail})
    await monkey.inject(STEP, injection, ttl=10.0)
    await monkey.verify(STEP, injection)
    async with asyncio.timeout(15):
        while not any(e["event"] in (f"monkey_{wait_for}", "monkey_no_effect") for e in events):
            await asyncio.sleep(0.05)
    return monkey, injection


async def test_actions_with_an_effect_are_its_evidence_and_its_rollback_stops_it() -> None:
    monkey, injection = await play(Driver())
    assert injection.verification == "the monkey runs (seed 0) on catalog"
    await monkey.confirm_effect(STEP, injection, object(), 0.0)  # type: ignore[arg-type]
    assert " actions with an effect (kill catalog" in injection.effect
    await monkey.rollback(STEP, injection)
    assert injection.rollback.startswith("the monkey stopped; its ")
    names = [e["event"] for e in injection.events]
    assert names[:4] == ["monkey_started", "monkey_chosen", "monkey_injected", "monkey_effect"]
    assert names[-1] == "monkey_stopped"
    chosen = next(e for e in injection.events if e["event"] == "monkey_chosen")
    assert chosen["victim"] == "catalog" and chosen["fault"] == "kill"


async def test_a_monkey_whose_actions_changed_nothing_is_no_evidence() -> None:
    monkey, injection = await play(Driver(fails="confirm_effect"), wait_for="no_effect")
    with pytest.raises(NoEffect, match="no action of the monkey had an effect"):
        await monkey.confirm_effect(STEP, injection, object(), 0.0)  # type: ignore[arg-type]
    await monkey.rollback(STEP, injection)


async def test_an_action_not_rolled_back_fails_the_monkeys_rollback() -> None:
    monkey, injection = await play(Driver(rollback_fails=True), wait_for="rollback_failed")
    with pytest.raises(RollbackFailed, match="of the monkey's actions were not rolled back"):
        await monkey.rollback(STEP, injection)
