"""The verdict of a run and the exit code it becomes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["EXIT_CODES", "Outcome", "Verdict"]


class Verdict(enum.Enum):
    HELD = "held"  # the hypothesis held
    DEVIATED = "deviated"  # an SLO, the recovery or an expectation failed
    NOT_STEADY = "not_steady"  # steady state not met before any fault: nothing injected
    ABORTED = "aborted"  # an abort condition, or an interruption, stopped the method
    FAILED = "failed"  # the infrastructure failed: preflight, a fault that did nothing


EXIT_CODES = {
    Verdict.HELD: 0,
    Verdict.DEVIATED: 1,
    Verdict.NOT_STEADY: 3,
    Verdict.ABORTED: 4,
    Verdict.FAILED: 5,
}


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]
