"""What the runner needs from the rest of chaosbed, as protocols.

The runner is wired to real parts by `chaos.runner.wiring`; tests wire it to
real services on loopback ports. Nothing here is a stand-in: these are the
seams between the runner and the load generator and the stack (the SLI
backends are `chaos.slo.SliReader`s).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["LoadDriver", "Preflight"]


class LoadDriver(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> Mapping[str, Any]:
        """Stop sending; return the client-side results kept in the journal."""
        ...

    def member_counts(self) -> Mapping[tuple[tuple[str, str], ...], float]:
        """Member requests so far, by their sorted labels (journey, service, cohort,
        outcome): what members saw, counted as each answer came."""
        ...


class Preflight(Protocol):
    async def __call__(self) -> list[str]:
        """Problems that forbid a run (unhealthy stack, leftovers); empty when clear."""
        ...
