"""The runner asks every step's driver for the fault's effect before the
step's rollback: a rule that matched no request fails the run (exit 5)
naming the fault; one that did is journalled with what it matched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from chaos.experiment.model import (
    AppFault,
    Availability,
    Experiment,
    LoadSpec,
    Objective,
    Slo,
    SteadyState,
    Step,
)
from chaos.runner import Journal, Runner, RunOptions, Verdict
from chaos.runner.load_driver import GeneratorLoad
from chaos.runner.verdict import Outcome
from services.catalog.app import create_app as catalog_app
from services.catalog.settings import CatalogSettings
from services.common import ServiceSettings

from ..runner.conftest import TOKEN, Stack, start_stack

HOMEPAGE_OK = Slo(
    "homepage-ok", Availability("recommendations", source="members"), Objective(">=", 90.0), 3.0
)


@pytest.fixture
async def stack_and_runners(tmp_path: Path) -> AsyncIterator[tuple[Stack, list[web.AppRunner]]]:
    started, runners = await start_stack(tmp_path)
    try:
        yield started, runners
    finally:
        await started.session.close()
        for runner in reversed(runners):
            await runner.cleanup()


@pytest.fixture
def stack(stack_and_runners: tuple[Stack, list[web.AppRunner]]) -> Stack:
    return stack_and_runners[0]


async def run(stack: Stack, step: Step, journal: Journal | None = None) -> tuple[Outcome, Journal]:
    exp = Experiment(
        title="effect",
        hypothesis="a fault must bite",
        load=LoadSpec(rate=30, mix={"homepage": 100}, members=20, seed=7),
        steady_state=SteadyState(warmup=1.0, slos=(HOMEPAGE_OK,), hold=1.0),
        method=(step,),
    )
    journal = journal or Journal("test", {"title": exp.title})
    async with stack.reader(interval=0.5) as reader:
        outcome = await Runner(
            exp,
            drivers=[stack.app_driver()],
            reader=reader,
            journal=journal,
            load=GeneratorLoad(exp.load, stack.targets, metrics_port=stack.load_port),  # type: ignore[arg-type]
            options=RunOptions(interval=0.5, recovery_timeout=5.0),
        ).run()
    return outcome, journal


async def test_a_rule_on_a_route_no_journey_calls_fails_the_run_naming_the_fault(
    stack: Stack,
) -> None:
    # homepage traffic only: nobody starts playback
    step = Step("play-503", AppFault("error", target="playback", route="/playback/start"), 0, 2)

    outcome, journal = await run(stack, step)

    assert outcome.verdict is Verdict.FAILED and outcome.exit_code == 5
    assert any(
        r.startswith("fault play-503: its rule on playback matched no request in")
        for r in outcome.reasons
    ), outcome.reasons
    assert all(not rules for rules in (await stack.rules()).values())


async def test_a_rule_that_matched_is_journalled_with_its_count(stack: Stack) -> None:
    step = Step("popular-503", AppFault("error", target="catalog", route="/popular"), 0, 2)

    outcome, journal = await run(stack, step)

    assert outcome.verdict is not Verdict.FAILED, outcome.reasons
    (fault,) = journal.injections
    assert fault.handle["matched"] > 0
    assert (
        fault.to_json()["effect"]
        == f"its rule on catalog matched {fault.handle['matched']} request(s)"
    )
    (event,) = [e for e in journal.events if e["event"] == "effect"]
    assert event["step"] == "popular-503" and "matched" in event["how"]


async def restart_catalog(stack: Stack, runners: list[web.AppRunner]) -> None:
    """Stop the catalog (start_stack starts it first) and start a fresh one on its port."""
    await runners[0].cleanup()
    port = stack.ports["catalog"]
    app = catalog_app(CatalogSettings(ServiceSettings("catalog", port, control_token=TOKEN)))
    runners[0] = web.AppRunner(app, access_log=None)
    await runners[0].setup()
    await web.TCPSite(runners[0], "127.0.0.1", port).start()


async def test_a_rule_lost_to_a_restart_mid_step_is_reinjected_and_journalled(
    stack_and_runners: tuple[Stack, list[web.AppRunner]],
) -> None:
    stack, runners = stack_and_runners
    step = Step("popular-503", AppFault("error", target="catalog", route="/popular"), 0, 5)
    journal = Journal("test", {"title": "effect"})

    async def restart_once_injected() -> None:
        # once the driver has seen the rule match (what the lost rule matched still
        # counts); restarted sooner, the members' calls that fail while the catalog
        # is away can open recommendations' breaker for the rest of the step, and
        # the re-injected rule then rightly matches nothing
        while not any(i.handle.get("matched", 0) > 0 for i in journal.injections):
            await asyncio.sleep(0.05)
        await restart_catalog(stack, runners)

    restarter = asyncio.create_task(restart_once_injected())
    outcome, _ = await run(stack, step, journal)
    try:  # a run that never verified its fault leaves nothing to restart: fail, never hang
        await asyncio.wait_for(restarter, timeout=30)
    except TimeoutError:
        pytest.fail(f"the fault was never verified, so nothing restarted: {outcome.reasons}")

    assert outcome.verdict is not Verdict.FAILED, outcome.reasons
    (event,) = [e for e in journal.events if e["event"] == "reinjected"]
    assert event["step"] == "popular-503" and event["service"] == "catalog"
    (fault,) = journal.injections
    assert fault.handle["reinjected"] == [fault.handle["rule_id"]]
    assert "expired" not in fault.rollback and "removed" in fault.rollback
