"""Rollback that cannot be skipped.

Every injection is tracked before its fault is injected, so that whatever
happens next (the step ends, an abort, an exception, a cancellation by
SIGINT or SIGTERM) it is rolled back exactly once. Each rollback runs as a
task of its own that a cancellation cannot interrupt (a second Ctrl-C must
not leave a fault behind); a rollback that fails or outlives its timeout is
recorded, and `chaosbed cleanup` finds what it left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from chaos.experiment.model import Step
from chaos.faults.base import FaultDriver, Injection
from chaos.faults.errors import FaultError

from .journal import Journal

if TYPE_CHECKING:
    from .lifecycle import RunOptions

__all__ = ["Rollbacks"]


class Rollbacks:
    def __init__(
        self,
        driver_for: Callable[[Step], FaultDriver],
        journal: Journal,
        phase: Callable[[], str],
        options: RunOptions,
    ) -> None:
        self._driver_for = driver_for
        self._journal = journal
        self._phase = phase
        self._timeout = options.rollback_timeout
        self._injections: list[tuple[Step, Injection]] = []
        self._tasks: dict[int, asyncio.Task[None]] = {}
        #: when the latest rollback began (journal time): the fault's removal, from
        #: which time to recover is measured, not the end of the rollback's own wait
        self.last_started_at: float | None = None

    def track(self, step: Step, injection: Injection) -> None:
        self._injections.append((step, injection))
        self._journal.injections.append(injection)

    @property
    def any_failed(self) -> bool:
        return any(injection.error for _, injection in self._injections)

    async def one(self, step: Step, injection: Injection, why: str) -> None:
        await asyncio.shield(self._start(step, injection, why))

    async def all(self, why: str) -> bool:
        """Roll back every tracked injection not yet rolled back, newest first.

        A cancellation does not stop it; True when one arrived meanwhile (the
        caller must then stop as if it had been cancelled).
        """
        tasks = [self._start(s, i, why) for s, i in reversed(self._injections)]
        interrupted = False
        if not tasks:
            return interrupted
        job = asyncio.gather(*tasks, return_exceptions=True)
        while not job.done():
            try:
                await asyncio.shield(job)
            except asyncio.CancelledError:
                interrupted = True
        return interrupted

    def _start(self, step: Step, injection: Injection, why: str) -> asyncio.Task[None]:
        """The one rollback task of an injection: started once, never cancelled."""
        task = self._tasks.get(id(injection))
        if task is None:
            task = asyncio.create_task(self._rollback(step, injection, why))
            self._tasks[id(injection)] = task
        return task

    async def _rollback(self, step: Step, injection: Injection, why: str) -> None:
        driver = self._driver_for(step)
        started = self._journal.now()
        self.last_started_at = max(started, self.last_started_at or started)
        # a driver that waits on rollbacks of its own (a monkey) says how long it may take
        timeout = max(self._timeout, getattr(driver, "rollback_timeout", 0.0))
        try:
            async with asyncio.timeout(timeout):
                await driver.rollback(step, injection)
        except (FaultError, TimeoutError) as exc:
            self._failed(step, injection, str(exc) or "timed out")
        except Exception as exc:  # noqa: BLE001 - a driver's bug: recorded, the others still run
            self._failed(step, injection, repr(exc))
        injection.rolled_back_at = self._journal.now()
        self._journal.event(
            self._phase(),
            "rolled_back",
            step=step.name,
            why=why,
            how=injection.rollback,
            started_t=started,
        )

    def _failed(self, step: Step, injection: Injection, detail: str) -> None:
        injection.error = f"rollback failed: {detail}"
        self._journal.event(self._phase(), "rollback_failed", step=step.name, detail=detail)
