"""The verdict of a run and the exit code it becomes.

`Verdict` is chaosbed's one verdict type: its values are the spellings
journals, reports and game day results use (`"held"`, `"not_steady"`, ...).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from chaos.exitcodes import ExitCode

__all__ = ["EXIT_CODES", "Outcome", "Verdict"]


class Verdict(enum.Enum):
    HELD = "held"  # the hypothesis held
    DEVIATED = "deviated"  # an SLO, the recovery or an expectation failed
    NOT_STEADY = "not_steady"  # steady state not met before any fault: nothing injected
    ABORTED = "aborted"  # an abort condition, or an interruption, stopped the method
    FAILED = "failed"  # the infrastructure failed: preflight, a fault that did nothing


EXIT_CODES: dict[Verdict, ExitCode] = {
    Verdict.HELD: ExitCode.HELD,
    Verdict.DEVIATED: ExitCode.DEVIATED,
    Verdict.NOT_STEADY: ExitCode.STEADY_STATE_NOT_MET,
    Verdict.ABORTED: ExitCode.ABORTED,
    Verdict.FAILED: ExitCode.INFRASTRUCTURE_FAILED,
}


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return int(EXIT_CODES[self.verdict])
