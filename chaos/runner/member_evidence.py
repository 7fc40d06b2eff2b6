"""Members' own counts as evidence that a fault bit, beside what the backend scraped.

A process or network fault is confirmed by what callers or members saw
(`chaos.faults.effect`), read from the SLI backend. The runner also drives
the members itself: its load generator counts every answer a member got the
moment it comes. `MemberEvidence` is the backend's reader with one addition:
the increase of the member counter (`chaosbed_member_requests_total`) since
the step began is the larger of what the backend reports and what the load
generator counted since its snapshot at the step's start. So a failure
members saw is never missed because a scrape came late or a short outage
fell between two scrapes, and it is never invented: the load generator
counts only answers members really got.

The history workload's devices are members too (they read, write and sync
their profiles on the replica they are near): with `history`, its operations
invoked since the step began that found no connection, or lost it before an
answer, count as `unreachable` journeys entering that replica
(chaos.history.member_outcome; a timeout or a 5xx is not counted: a busy
machine times out too, and a 5xx may be about another replica). A replica
killed during writes is seen first by the devices writing to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from chaos.experiment.model import Slo
from chaos.history import Op, member_outcome
from chaos.slo import SliReader
from chaos.slo.query import MEMBER_REQUESTS

from .ports import LoadDriver

__all__ = ["MemberEvidence"]

Counts = Mapping[tuple[tuple[str, str], ...], float]


class MemberEvidence:
    """`reader`, with member counts also read from `load` since this was made."""

    def __init__(
        self,
        reader: SliReader,
        load: LoadDriver | None,
        history: Callable[[], Sequence[Op]] | None = None,
    ) -> None:
        """`history`: the history workload's operations so far, in invocation order."""
        self._reader = reader
        self._load = load
        self._start: Counts = load.member_counts() if load is not None else {}
        self._history = history
        self._history_from = len(history()) if history is not None else 0

    def _local_increase(self, labels: Mapping[str, str]) -> float | None:
        parts = (self._load_increase(labels), self._history_increase(labels))
        counted = [part for part in parts if part is not None]
        return sum(counted) if counted else None

    def _load_increase(self, labels: Mapping[str, str]) -> float | None:
        if self._load is None:
            return None
        wanted = set(labels.items())
        now = self._load.member_counts()
        return sum(
            value - self._start.get(key, 0.0) for key, value in now.items() if wanted <= set(key)
        )

    def _history_increase(self, labels: Mapping[str, str]) -> float | None:
        """History operations since the step began that match `labels` (a service, an
        outcome); None for labels a device's operation has no value for (a journey)."""
        if self._history is None or not set(labels) <= {"service", "outcome"}:
            return None
        ops = self._history()[self._history_from :]
        return float(
            sum(
                1
                for op in ops
                if labels.get("service", op.replica) == op.replica
                and (seen := member_outcome(op)) is not None
                and labels.get("outcome", seen) == seen
            )
        )

    def check(self, slo: Slo) -> None:
        self._reader.check(slo)

    async def value(self, slo: Slo) -> float | None:
        return await self._reader.value(slo)

    async def max_over(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> float | None:
        return await self._reader.max_over(metric, labels, since, at=at)

    async def increase(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> float | None:
        scraped = await self._reader.increase(metric, labels, since, at=at)
        if metric != MEMBER_REQUESTS or at is not None:
            return scraped
        counted = self._local_increase(labels)
        if counted is None:
            return scraped
        return max(counted, scraped or 0.0)
