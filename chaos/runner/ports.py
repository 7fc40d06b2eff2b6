"""What the runner needs from the rest of chaosbed, as protocols.

The runner is wired to real parts by `chaos.runner.wiring`; tests wire it to
real services on loopback ports. Nothing here is a stand-in: these are the
seams between the runner and the load generator, the SLI backends and the
stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from chaos.experiment.model import Slo

__all__ = ["LoadDriver", "MetricReader", "Preflight"]


class MetricReader(Protocol):
    """Reads SLIs and mechanism metrics from a backend (prometheus or scrape)."""

    async def refresh(self) -> None:
        """Take a fresh reading where the backend needs one (the scrape backend)."""
        ...

    async def value(self, slo: Slo) -> float | None:
        """The SLI now, over the SLO's window; None when there is no data."""
        ...

    async def max_over(self, metric: str, labels: Mapping[str, str], since: float) -> float | None:
        """The largest value of a gauge since `since` (a UNIX time); None without data."""
        ...

    async def increase(self, metric: str, labels: Mapping[str, str], since: float) -> float | None:
        """How much a counter (summed over matching series) grew since `since` (UNIX time)."""
        ...

    async def latest(self, metric: str, labels: Mapping[str, str]) -> float | None:
        """The current value of a gauge (max over matching series)."""
        ...


class LoadDriver(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> Mapping[str, Any]:
        """Stop sending; return the summary kept in the journal."""
        ...

    def series(self) -> Mapping[str, Any]:
        """Per-second client-side results so far, for the journal."""
        ...


class Preflight(Protocol):
    async def __call__(self) -> list[str]:
        """Problems that forbid a run (unhealthy stack, leftovers); empty when clear."""
        ...
