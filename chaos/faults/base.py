"""What every fault driver does, and the record of one injection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from chaos.experiment.model import Step
from chaos.slo import SliReader

__all__ = ["FaultDriver", "Injection"]


@dataclass
class Injection:
    """One fault as it happened: kept in the journal, used by the rollback.

    `handle` is the driver's own record of what it changed (rule ids,
    pids, container ids) so that its rollback removes exactly that.
    Times are seconds on the runner's monotonic clock: `began_at` when injecting
    began (a deploy has restarted its target before `inject` returns),
    `injected_at` when the fault was in place. `effect` says what
    confirmed that the fault changed something (`FaultDriver.confirm_effect`);
    `events` are what the driver noted while the step ran (a rule
    re-injected), each also passed to `on_event` (the runner's journal).
    """

    step: str
    layer: str
    description: str
    handle: dict[str, Any] = field(default_factory=dict)
    standin: bool = False
    began_at: float | None = None
    injected_at: float | None = None
    verified_at: float | None = None
    verification: str = ""
    rolled_back_at: float | None = None
    effect: str = ""
    rollback: str = ""
    error: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    on_event: Callable[..., object] | None = field(default=None, repr=False, compare=False)

    def note(self, what: str, **detail: Any) -> None:
        """Record something that happened to this fault while its step ran."""
        self.events.append({"event": what, **detail})
        if self.on_event is not None:
            self.on_event(what, **detail)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "layer": self.layer,
            "description": self.description,
            "standin": self.standin,
            "began_at": self.began_at,
            "injected_at": self.injected_at,
            "verified_at": self.verified_at,
            "verification": self.verification,
            "effect": self.effect,
            "events": list(self.events),
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
    failed or cancelled injection still removes what was added.

    `verify` checks, right after `inject`, that the fault is in place;
    `confirm_effect`, at the step's end before its rollback, that it changed
    something: each driver says what evidence counts (rules that matched
    requests; callers or members that saw failures, read from `reader` since
    `since`, a wall-clock time). A fault with no effect raises `NoEffect`.
    """

    def accepts(self, step: Step) -> bool: ...

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None: ...

    async def verify(self, step: Step, injection: Injection) -> None: ...

    async def confirm_effect(
        self, step: Step, injection: Injection, reader: SliReader, since: float
    ) -> None: ...

    async def rollback(self, step: Step, injection: Injection) -> None: ...
