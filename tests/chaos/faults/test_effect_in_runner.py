"""The runner asks every step's driver for the fault's effect before the
step's rollback: a rule that matched no request fails the run (exit 5)
naming the fault; one that did is journalled with what it matched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

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

from ..runner.conftest import Stack, start_stack

HOMEPAGE_OK = Slo(
    "homepage-ok", Availability("recommendations", source="members"), Objective(">=", 90.0), 3.0
)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    started, runners = await start_stack(tmp_path)
    try:
        yield started
    finally:
        await started.session.close()
        for runner in reversed(runners):
            await runner.cleanup()


async def run(stack: Stack, step: Step) -> tuple[Outcome, Journal]:
    exp = Experiment(
        title="effect",
        hypothesis="a fault must bite",
        load=LoadSpec(rate=30, mix={"homepage": 100}, members=20, seed=7),
        steady_state=SteadyState(warmup=1.0, slos=(HOMEPAGE_OK,), hold=1.0),
        method=(step,),
    )
    journal = Journal("test", {"title": exp.title})
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


async def test_a_rule_on_a_route_no_journey_calls_fails_the_run_naming_the_fault(stack) -> None:
    # homepage traffic only: nobody starts playback
    step = Step("play-503", AppFault("error", target="playback", route="/playback/start"), 0, 2)

    outcome, journal = await run(stack, step)

    assert outcome.verdict is Verdict.FAILED and outcome.exit_code == 5
    assert any(
        r.startswith("fault play-503: its rule on playback matched no request in")
        for r in outcome.reasons
    ), outcome.reasons
    assert all(not rules for rules in (await stack.rules()).values())


async def test_a_rule_that_matched_is_journalled_with_its_count(stack) -> None:
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
