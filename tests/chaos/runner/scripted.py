"""Scripted stand-ins for the runner's collaborators, for fast lifecycle tests.

`Driver` keeps time (when its fault went in, when its rollback began and
ended) and can be told to fail at any of its four steps; `Reader` answers
SLIs from a function of the SLO (it may read the driver's state, or raise,
as a backend does); `History` notes what the runner tells a history
workload. `run` drives one experiment with them, optionally cancelling it
once the runner enters a given phase.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from chaos.experiment.model import (
    AbortCondition,
    AppFault,
    Availability,
    Experiment,
    HistoryHolds,
    Objective,
    Slo,
    SteadyState,
    Step,
)
from chaos.faults.base import Injection
from chaos.faults.errors import FaultError
from chaos.history import Op
from chaos.runner import Journal, Runner, RunOptions, Verdict
from chaos.runner.comparison import Comparison
from chaos.runner.expectations import ExpectationResult
from chaos.runner.ports import Preflight

__all__ = ["STEP", "SERVER_OK", "Driver", "History", "Reader", "experiment", "run"]

SERVER_OK = Slo(
    "catalog-server-ok", Availability("catalog", source="server"), Objective(">=", 95.0), 0.3
)
STEP = Step("catalog-down", AppFault("error", target="catalog"), 0.0, 0.5)
#: The driver's steps, in the order the runner calls them.
DRIVER_STEPS = ("inject", "verify", "confirm_effect", "rollback")


class Driver:
    """A fault driver that only keeps time. `fails` names the step that raises
    (`error`, a FaultError by default); its rollback may wait (for readiness)."""

    layer = "scripted"

    def __init__(
        self,
        *,
        rollback_wait: float = 0.0,
        rollback_fails: bool = False,
        fails: str | None = None,
        error: Callable[[str], Exception] | None = None,
    ) -> None:
        assert fails is None or fails in DRIVER_STEPS, fails
        self._rollback_wait = rollback_wait
        self._fails = "rollback" if rollback_fails else fails
        self._error = error or (lambda what: FaultError(STEP.name, f"the scripted {what} failed"))
        self.called: list[str] = []
        self.injected: float | None = None
        self.rollback_began: float | None = None
        self.rolled_back: float | None = None

    def _step(self, what: str) -> None:
        self.called.append(what)
        if self._fails == what:
            raise self._error(what)

    def accepts(self, step: Step) -> bool:
        return True

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None:
        self._step("inject")
        self.injected = time.monotonic()

    async def verify(self, step: Step, injection: Injection) -> None:
        self._step("verify")
        injection.verification = "scripted"

    async def confirm_effect(
        self, step: Step, injection: Injection, reader: object, since: float
    ) -> None:
        self._step("confirm_effect")
        injection.effect = "scripted"

    async def rollback(self, step: Step, injection: Injection) -> None:
        self.rollback_began = time.monotonic()
        await asyncio.sleep(self._rollback_wait)
        self.rolled_back = time.monotonic()
        self._step("rollback")

    def active(self) -> bool:
        """The fault is in place (its rollback has not begun)."""
        return self.injected is not None and self.rollback_began is None

    def since_rollback_began(self) -> float | None:
        return None if self.rollback_began is None else time.monotonic() - self.rollback_began

    def since_rolled_back(self) -> float | None:
        return None if self.rolled_back is None else time.monotonic() - self.rolled_back


class Reader:
    """SLI values from a function of the SLO; it may raise, as a backend does."""

    def __init__(self, value: Callable[[Slo], float | None]) -> None:
        self._value = value

    def check(self, slo: Slo) -> None:
        return None

    async def value(self, slo: Slo) -> float | None:
        return self._value(slo)

    async def max_over(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> None:
        return None

    async def increase(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> None:
        return None


def experiment(
    *,
    slos: tuple[Slo, ...] = (SERVER_OK,),
    abort_when: tuple[AbortCondition, ...] = (),
    expect: tuple[object, ...] = (),
    warmup: float = 0.0,
) -> Experiment:
    return Experiment(
        title="judging",
        hypothesis="the SLOs hold",
        load=None,
        steady_state=SteadyState(warmup=warmup, slos=slos, hold=0.3),
        method=(STEP,),
        abort_when=abort_when,
        expect=expect,  # type: ignore[arg-type]
    )


class History:
    """A history workload that only notes what the runner tells it: when the
    fault healed, the fault windows, and whether it was stopped."""

    heal_at: float | None = None
    faults: tuple[tuple[float, float], ...] = ()
    cancelled = False

    async def start(self) -> None:
        return None

    def operations(self) -> list[Op]:
        return []  # no device of this workload runs: a step's evidence is the backend's

    async def cancel(self) -> None:
        self.cancelled = True

    async def check(
        self,
        expectation: HistoryHolds,
        heal_at: float,
        *,
        faults: tuple[tuple[float, float], ...] = (),
    ) -> ExpectationResult:
        self.heal_at = heal_at
        self.faults = tuple(faults)
        return ExpectationResult("history", True, "scripted")


async def run(
    exp: Experiment,
    driver: Driver,
    reader: Reader,
    history: History | None = None,
    *,
    preflight: Preflight | None = None,
    cancel_in: str | None = None,
    comparison: Comparison | None = None,
) -> tuple[Verdict, Journal]:
    """Run `exp`; with `cancel_in`, cancel the run (as Ctrl-C does) once it is in that phase."""
    journal = Journal("test", {})
    options = RunOptions(interval=0.05, scrape_interval=0.05, recovery_timeout=2.0)
    runner = Runner(
        exp,
        drivers=[driver],
        reader=reader,
        journal=journal,
        history=history,  # type: ignore[arg-type]
        preflight=preflight,
        comparison=comparison,
        options=options,
    )
    async with asyncio.timeout(20):
        task = asyncio.create_task(runner.run())
        if cancel_in is not None:
            while runner.phase != cancel_in and not task.done():
                await asyncio.sleep(0.005)
            assert not task.done(), f"the run ended before it reached {cancel_in}"
            task.cancel()
        outcome = await task
    assert journal.exit_code == outcome.exit_code
    return outcome.verdict, journal
