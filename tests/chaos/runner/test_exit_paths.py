"""Rollback on the runner's unhappy paths, on the real services: a driver
that fails in an unexpected way, cancellations, aborts before a step starts.

`Broken` wraps the real application-layer driver and breaks one of its
phases; `scripted` answers SLI values from a function of time, so the tests
choose when the SLOs hold and when an abort condition fires."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from chaos.experiment.model import (
    AbortCondition,
    AppFault,
    Availability,
    Experiment,
    Objective,
    Slo,
    SteadyState,
    Step,
)
from chaos.faults.app import AppFaultDriver
from chaos.faults.base import Injection
from chaos.runner import Journal, Runner, RunOptions, Verdict

from .conftest import Stack
from .scripted import Reader

CATALOG_OK = Slo("catalog-ok", Availability("catalog"), Objective(">=", 95.0), 3.0)


def scripted(value: Callable[[float], float | None]) -> Reader:
    """A reader answering SLI values as a function of the seconds since it was made."""
    start = time.monotonic()
    return Reader(lambda slo: value(time.monotonic() - start))


class Broken:
    """The real app driver, with one phase made to fail or to hang."""

    layer = "application"

    def __init__(
        self, inner: AppFaultDriver, *, rollback_error: bool = False, rollback_delay: float = 0.0
    ) -> None:
        self._inner = inner
        self._rollback_error = rollback_error
        self._rollback_delay = rollback_delay
        self.rollback_started = asyncio.Event()

    def accepts(self, step: Step) -> bool:
        return self._inner.accepts(step)

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None:
        await self._inner.inject(step, injection, ttl)

    async def verify(self, step: Step, injection: Injection) -> None:
        await self._inner.verify(step, injection)

    async def confirm_effect(
        self, step: Step, injection: Injection, reader: object, since: float
    ) -> None:
        # these runs have no load, so nothing could be matched: the exit paths are
        # the subject here, not the evidence (tests/chaos/faults covers that)
        injection.effect = "not judged: no load in this test"

    async def rollback(self, step: Step, injection: Injection) -> None:
        self.rollback_started.set()
        await asyncio.sleep(self._rollback_delay)
        await self._inner.rollback(step, injection)
        if self._rollback_error:
            raise KeyError("a bug in the driver's rollback")


def experiment(*steps: Step, abort_when: tuple[AbortCondition, ...] = ()) -> Experiment:
    return Experiment(
        title="exit paths",
        hypothesis="every fault is rolled back",
        load=None,
        steady_state=SteadyState(warmup=0.0, slos=(CATALOG_OK,), hold=0.5),
        method=steps,
        abort_when=abort_when,
    )


def runner(exp: Experiment, driver: object, reader: Reader, journal: Journal) -> Runner:
    return Runner(
        exp,
        drivers=[driver],  # type: ignore[list-item]
        reader=reader,
        journal=journal,
        options=RunOptions(interval=0.2, recovery_timeout=2.0),
    )


async def test_a_rollback_that_raises_unexpectedly_is_recorded_and_asks_for_cleanup(
    stack: Stack,
) -> None:
    step = Step("catalog-503", AppFault("error", target="catalog"), 0.0, 1.0)
    journal = Journal("test", {})
    driver = Broken(stack.app_driver(), rollback_error=True)
    outcome = await runner(experiment(step), driver, scripted(lambda t: 100.0), journal).run()
    (fault,) = journal.injections
    assert fault.rolled_back_at is not None
    assert "a bug in the driver's rollback" in fault.error
    assert any(e["event"] == "rollback_failed" for e in journal.events)
    assert "a rollback failed: run `chaosbed cleanup`" in journal.reasons
    assert outcome.verdict is Verdict.FAILED


async def test_a_failed_rollback_turns_a_held_run_into_an_infrastructure_failure(
    stack: Stack,
) -> None:
    """The rollback removed the rule, then raised: the hypothesis held, but a
    run whose rollback failed may have left a fault behind: exit 5."""
    step = Step("catalog-503", AppFault("error", target="catalog"), 0.0, 0.5)
    journal = Journal("test", {})
    driver = Broken(stack.app_driver(), rollback_error=True)
    outcome = await runner(experiment(step), driver, scripted(lambda t: 100.0), journal).run()
    assert outcome.verdict is Verdict.FAILED and outcome.exit_code == 5
    assert journal.exit_code == 5


async def test_an_interruption_during_the_final_rollback_is_not_swallowed(stack: Stack) -> None:
    """Ctrl-C while the faults are being rolled back: they still are, and then
    the run stops (no recovery wait, no expectations), aborted."""
    step = Step("catalog-503", AppFault("error", target="catalog"), 0.0, 30.0)
    journal = Journal("test", {})
    driver = Broken(stack.app_driver(), rollback_delay=1.0)
    exp = experiment(step, abort_when=(AbortCondition("catalog-ok", below=50.0, for_=0.0),))
    reader = scripted(lambda t: 100.0 if t < 1.0 else 10.0)  # aborts; never recovers
    task = asyncio.create_task(runner(exp, driver, reader, journal).run())
    await asyncio.wait_for(driver.rollback_started.wait(), 10)
    task.cancel()
    outcome = await asyncio.wait_for(task, 5)  # recovery would wait 2 s more, then expectations
    assert all(not rules for rules in (await stack.rules()).values())
    assert journal.injections[0].rolled_back_at is not None
    assert outcome.verdict is Verdict.ABORTED
    assert any("interrupted" in reason for reason in outcome.reasons)
    assert not any(e["phase"] == "recovery" for e in journal.events)
