"""Runs the profiles history workload during an experiment and judges it afterwards.

Started with the load, it records operations against every profiles replica
until the faults are rolled back (the heal); then it waits for the replicas
to agree, saves the history (JSONL, beside the journal when there is one)
and checks it against the experiment's `history` expectation.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from pathlib import Path

from chaos.experiment.describe import describe_expectation
from chaos.experiment.model import HistoryHolds
from chaos.history import History, check_history, save_history
from chaos.history.workload import Workload, WorkloadSpec, final_states

from .expectations import ExpectationResult

__all__ = ["HistoryDriver"]


class HistoryDriver:
    def __init__(
        self,
        replicas: Mapping[str, str],
        *,
        save_to: Path | None = None,
        spec: WorkloadSpec | None = None,
    ) -> None:
        self.workload = Workload(replicas, spec or WorkloadSpec())
        self.replicas = dict(replicas)
        self.save_to = save_to
        self._task: asyncio.Task[object] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.workload.run(), name="history-workload")

    async def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def check(self, expectation: HistoryHolds, heal_at: float) -> ExpectationResult:
        self.workload.stop()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
        final = await final_states(
            self.replicas,
            self.workload.members,
            heal_at=heal_at,
            bound_s=expectation.converged_within,
        )
        history = History(tuple(self.workload.ops), heal_at, final)
        if self.save_to is not None:
            save_history(self.save_to, history)
        report = check_history(history, bound_s=expectation.converged_within)
        partial = len(report.partial) + len(report.partial_final)
        met = (
            len(report.lost) <= expectation.lost
            and partial <= expectation.partial
            and not report.divergent
            and not report.non_monotonic
        )
        elapsed = time.time() - heal_at
        measured = report.summary()
        if report.lost:
            measured += f"; lost ops {list(report.lost[:10])}"
        if report.partial:
            measured += f"; partial ops {list(report.partial[:10])}"
        if self.save_to is not None:
            measured += f"; history in {self.save_to}"
        return ExpectationResult(
            describe_expectation(expectation),
            met,
            f"{measured} (checked {elapsed:.1f}s after heal)",
        )
