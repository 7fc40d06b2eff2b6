"""A method whose steps come from another thread (a Chaos Toolkit run's activities):
the runner holds the steady state before any step is accepted, plays each step
with its own drivers, stops at an abort condition, and judges as for its own."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time

import pytest

from chaos.experiment.model import AbortCondition, Experiment
from chaos.faults.errors import FaultError
from chaos.runner import Journal, Runner, RunOptions, Verdict
from chaos.runner.external import ExternalMethod, MethodEnded

from .scripted import STEP, Driver, Reader, experiment


async def run_external(
    exp: Experiment, driver: Driver, reader: Reader, external: ExternalMethod
) -> tuple[Verdict, Journal]:
    journal = Journal("test", {})
    options = RunOptions(interval=0.05, scrape_interval=0.05, recovery_timeout=2.0)
    runner = Runner(
        exp, drivers=[driver], reader=reader, journal=journal, method=external, options=options
    )
    async with asyncio.timeout(20):
        try:
            outcome = await runner.run()
        finally:
            external.close()  # as the session does: a waiter learns the run is over
    return outcome.verdict, journal


def ctk(external: ExternalMethod, steps: int = 1) -> list[str]:
    """What a CTK run does: wait for the method, play steps, say the end. Returns what
    befell each step."""
    befell = []
    if not external.wait_ready(10):
        return ["not ready"]
    for _ in range(steps):
        try:
            external.play(STEP, timeout=10)
            befell.append("played")
        except asyncio.CancelledError:
            befell.append("stopped")
        except (FaultError, MethodEnded) as error:
            befell.append(type(error).__name__)
    external.end()
    return befell


async def test_steps_played_from_another_thread_are_judged_and_rolled_back() -> None:
    driver, external = Driver(), ExternalMethod()
    befell = asyncio.create_task(asyncio.to_thread(ctk, external, 2))
    verdict, journal = await run_external(experiment(), driver, Reader(lambda slo: 100.0), external)

    assert verdict is Verdict.HELD, journal.reasons
    assert await befell == ["played", "played"]
    assert driver.called == ["inject", "verify", "confirm_effect", "rollback"] * 2
    ended = [e for e in journal.events if e["event"] == "external_ended"]
    assert ended and ended[0]["steps"] == [STEP.name, STEP.name]
    assert journal.judgement["slos"], "the method was not judged"


async def test_a_steady_state_that_does_not_hold_accepts_no_step() -> None:
    driver, external = Driver(), ExternalMethod()
    befell = asyncio.create_task(asyncio.to_thread(ctk, external))
    verdict, _ = await run_external(experiment(), driver, Reader(lambda slo: 10.0), external)

    assert verdict is Verdict.NOT_STEADY
    assert await befell == ["not ready"]
    assert driver.called == []
    with pytest.raises(MethodEnded):
        external.play(STEP)


async def test_an_abort_condition_stops_the_step_playing_and_rolls_it_back() -> None:
    driver, external = Driver(), ExternalMethod()
    reader = Reader(lambda slo: 10.0 if driver.active() else 100.0)
    abort = AbortCondition("catalog-server-ok", below=50.0, for_=0.0)
    long_step = threading.Event()

    def ctk_long() -> list[str]:
        external.wait_ready(10)
        long_step.set()
        try:
            external.play(STEP.__class__(STEP.name, STEP.fault, 0.0, 30.0), timeout=20)
        except asyncio.CancelledError:
            return ["stopped"]
        return ["played"]

    befell = asyncio.create_task(asyncio.to_thread(ctk_long))
    verdict, journal = await run_external(experiment(abort_when=(abort,)), driver, reader, external)

    assert verdict is Verdict.ABORTED, journal.reasons
    assert await befell == ["stopped"]
    assert driver.rolled_back is not None
    with pytest.raises(MethodEnded):
        external.play(STEP)


async def test_a_step_that_fails_fails_the_run_and_its_player() -> None:
    driver, external = Driver(fails="verify"), ExternalMethod()
    befell = asyncio.create_task(asyncio.to_thread(ctk, external))
    verdict, journal = await run_external(experiment(), driver, Reader(lambda slo: 100.0), external)

    assert verdict is Verdict.FAILED, journal.reasons
    assert await befell == ["FaultError"]
    assert "rollback" in driver.called


async def test_a_method_that_ends_without_playing_a_step_fails_rather_than_holding() -> None:
    driver, external = Driver(), ExternalMethod()
    befell = asyncio.create_task(asyncio.to_thread(ctk, external, 0))
    verdict, journal = await run_external(experiment(), driver, Reader(lambda slo: 100.0), external)

    assert verdict is Verdict.FAILED
    assert await befell == []
    assert journal.reasons == [f"step {STEP.name!r}: never played: the method ended without it"]


async def test_no_step_is_accepted_once_the_method_was_said_to_end() -> None:
    driver, external = Driver(), ExternalMethod()

    def ctk_late() -> list[str]:
        external.wait_ready(10)
        external.end()
        try:
            external.play(STEP, timeout=5)
        except MethodEnded:
            return ["refused"]
        return ["played"]

    befell = asyncio.create_task(asyncio.to_thread(ctk_late))
    verdict, _ = await run_external(experiment(), driver, Reader(lambda slo: 100.0), external)

    assert await befell == ["refused"]
    assert driver.called == []
    assert verdict is Verdict.FAILED  # and the run says its step never played


async def test_a_step_called_early_starts_at_its_offset_from_the_methods_start() -> None:
    driver, external = Driver(), ExternalMethod()
    late = dataclasses.replace(STEP, offset=0.6, duration=0.2)
    called: list[float] = []

    def ctk_early() -> None:
        external.wait_ready(10)
        called.append(time.monotonic())
        external.play(late, timeout=10)
        external.end()

    befell = asyncio.create_task(asyncio.to_thread(ctk_early))
    verdict, _ = await run_external(experiment(), driver, Reader(lambda slo: 100.0), external)
    await befell

    assert verdict is Verdict.HELD
    assert driver.injected is not None and driver.injected - called[0] >= 0.55
