"""Runs the profiles history workload during an experiment and judges it afterwards.

Started with the load, it records operations against every profiles replica
and, beside them, reads every replica's versions a few times a second
(`ConvergenceWatch`). At `check` (after the recovery phase) it measures how
long the replicas took to catch up after the heal (the last rollback), from
those reads, not from when `check` was called; then it stops the workload,
reads the final states, saves the history (JSONL, beside the journal when
there is one) and checks it against the experiment's `history` expectation.

The expectation is met only when the checker finds at most `lost` lost and
`partial` partial operations and nothing else that decides (a conflicting
version, an unwritten value, a non-monotonic read, a stale read outside the
fault windows, divergence or no catch-up within `converged_within`), and the
history holds evidence (an acknowledged write, final states). The fault
windows are those given to `check`; without them, everything up to the heal
counts as a fault window.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from chaos.experiment.describe import describe_expectation
from chaos.experiment.model import HistoryHolds
from chaos.faults.base import Injection
from chaos.history import History, Op, check_history, save_history
from chaos.history.checker import DECISIVE, CheckReport
from chaos.history.convergence import ConvergenceWatch
from chaos.history.workload import Workload, WorkloadSpec, final_states

from .expectations import ExpectationResult

__all__ = ["HistoryDriver", "fault_windows", "history_met"]

SHOWN = 10  # op ids named per kind of finding in the result


def fault_windows(
    injections: Iterable[Injection], *, now: float, wall: float
) -> tuple[tuple[float, float], ...]:
    """Each fault's (start, end) in wall time, from the runner's monotonic times
    (`now` and `wall` are the same instant on both clocks): from when its injection
    began (or, without that, was in place) to its rollback; one not rolled back yet
    ends `now`."""
    offset = wall - now
    out = []
    for i in injections:
        start = i.began_at if i.began_at is not None else i.injected_at
        if start is not None:
            out.append((start + offset, (i.rolled_back_at or now) + offset))
    return tuple(out)


def history_met(report: CheckReport, expectation: HistoryHolds) -> bool:
    """At most the allowed lost and partial operations, and nothing else that decides."""
    others = [k for k in DECISIVE if k not in ("lost", "partial")]
    return (
        report.count("lost") <= expectation.lost
        and report.count("partial") <= expectation.partial
        and not any(report.count(kind) for kind in others)
        and not report.divergent
        and not report.notes
    )


def describe_findings(report: CheckReport) -> str:
    """The op ids of each kind of finding, the findings by device type, and the writes
    blamed for partial and lost values by device type (by op id)."""
    parts = []
    for kind in (*DECISIVE, "stale_in_fault"):
        ids = sorted({i for f in report.findings if f.kind == kind for i in f.ops})
        if ids:
            more = " ..." if len(ids) > SHOWN else ""
            parts.append(f"{kind.replace('_', '-')} ops {ids[:SHOWN]}{more}")
    table = report.by_device_type
    if table:
        parts.append(
            "by device type: "
            + "; ".join(
                f"{device} " + ", ".join(f"{k.replace('_', '-')} {n}" for k, n in row.items())
                for device, row in table.items()
            )
        )
    for kind in ("partial", "lost"):  # by the write each finding blames, when it blames one
        blamed = [f for f in report.findings if f.kind == kind and f.writer is not None]
        for device in sorted({f.device_type for f in blamed}):
            ids = sorted(
                {f.writer for f in blamed if f.device_type == device and f.writer is not None}
            )
            more = " ..." if len(ids) > SHOWN else ""
            parts.append(f"{kind} writes by {device}: ops {ids[:SHOWN]}{more}")
    return "; ".join(parts)


class HistoryDriver:
    def __init__(
        self,
        replicas: Mapping[str, str],
        *,
        save_to: Path | None = None,
        spec: WorkloadSpec | None = None,
        poll_s: float = 0.2,
    ) -> None:
        self.workload = Workload(replicas, spec or WorkloadSpec())
        self.watch = ConvergenceWatch(replicas, self.workload.members, poll_s=poll_s)
        self.replicas = dict(replicas)
        self.save_to = save_to
        self._tasks: list[asyncio.Task[object]] = []

    def operations(self) -> list[Op]:
        """The workload's operations so far, in invocation order (each as it stands)."""
        return self.workload.ops

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self.workload.run(), name="history-workload"),
            asyncio.create_task(self.watch.run(), name="history-convergence"),
        ]

    async def cancel(self) -> None:
        for task in self._tasks:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def check(
        self,
        expectation: HistoryHolds,
        heal_at: float,
        *,
        faults: Sequence[tuple[float, float]] = (),
    ) -> ExpectationResult:
        """Judge the history; `faults` are the (start, end) wall times of each fault."""
        bound = expectation.converged_within
        converged = await self.watch.caught_up_after(heal_at, self.workload.ops, bound)
        self.workload.stop()
        self.watch.stop()
        for task in self._tasks:
            with contextlib.suppress(Exception):
                await task
        final = await final_states(self.replicas, self.workload.members, bound_s=bound)
        history = History(
            tuple(self.workload.ops),
            heal_at,
            replace(final, converged_after=converged),
            tuple(faults),
        )
        if self.save_to is not None:
            save_history(self.save_to, history)
        report = check_history(history, bound_s=bound)
        elapsed = time.time() - heal_at
        measured = report.summary()
        found = describe_findings(report)
        if found:
            measured += f"; {found}"
        for note in report.notes:
            measured += f"; {note}"
        if self.save_to is not None:
            measured += f"; history in {self.save_to}"
        return ExpectationResult(
            describe_expectation(expectation),
            history_met(report, expectation),
            f"{measured} (checked {elapsed:.1f}s after heal)",
        )
