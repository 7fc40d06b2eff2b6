"""What every fault driver does, and the record of one injection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from chaos.experiment.model import Step

__all__ = ["FaultDriver", "Injection"]


@dataclass
class Injection:
    """One fault as it happened: kept in the journal, used by the rollback.

    `handle` is the driver's own record of what it changed (rule ids,
    pids, container ids) so that its rollback removes exactly that.
    Times are seconds on the runner's monotonic clock.
    """

    step: str
    layer: str
    description: str
    handle: dict[str, Any] = field(default_factory=dict)
    standin: bool = False
    injected_at: float | None = None
    verified_at: float | None = None
    verification: str = ""
    rolled_back_at: float | None = None
    rollback: str = ""
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "layer": self.layer,
            "description": self.description,
            "standin": self.standin,
            "injected_at": self.injected_at,
            "verified_at": self.verified_at,
            "verification": self.verification,
            "rolled_back_at": self.rolled_back_at,
            "rollback": self.rollback,
            "error": self.error,
            "handle": {
                key: [p.to_json() for p in value] if key == "parts" else value
                for key, value in self.handle.items()
            },
        }


class FaultDriver(Protocol):
    """One layer's mechanics. `inject` records in the Injection whatever the
    rollback needs *before* it can fail half-way, so a rollback after a
    failed or cancelled injection still removes what was added."""

    def accepts(self, step: Step) -> bool: ...

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None: ...

    async def verify(self, step: Step, injection: Injection) -> None: ...

    async def rollback(self, step: Step, injection: Injection) -> None: ...
