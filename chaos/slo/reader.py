"""The one interface both SLO backends offer the runner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from chaos.experiment.model import Slo

__all__ = ["SliReader"]


class SliReader(Protocol):
    """Reads SLIs and the metrics that expectations check.

    `since` is a wall-clock time (`time.time()`): reads cover [since, now].
    Both backends also take `at=` (a wall-clock time) to read as of then.
    Every read answers None when there is no data (no traffic, no series).
    """

    def check(self, slo: Slo) -> None:
        """Raise UnsupportedIndicator, at plan time, for an SLO this backend cannot read."""

    async def value(self, slo: Slo) -> float | None:
        """The SLI over the SLO's window: availability in %, latency in ms, or the PromQL value."""

    async def max_over(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> float | None:
        """The highest value of any matching series over [since, at] (breaker state 1 = open)."""

    async def increase(
        self, metric: str, labels: Mapping[str, str], since: float, *, at: float | None = None
    ) -> float | None:
        """The summed counter increase of matching series over [since, at] (resets handled)."""
