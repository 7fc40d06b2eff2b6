"""What can go wrong with a fault. Every one of them is the infrastructure
failing (exit 5): a fault that did nothing cannot test a hypothesis.

    FaultError            (a chaos.errors.ChaosbedError)
    ├── InjectionFailed   the layer refused or could not be reached
    ├── NotVerified       injected, but the effect could not be observed
    │   └── NoEffect      in place all along, yet it changed nothing anyone saw
    │                     (a rule that matched no request, a kill no caller noticed)
    └── RollbackFailed    the layer could not undo it (cleanup will)
"""

from __future__ import annotations

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

__all__ = ["FaultError", "InjectionFailed", "NoEffect", "NotVerified", "RollbackFailed"]


class FaultError(ChaosbedError):
    exit_code = ExitCode.INFRASTRUCTURE_FAILED

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"step {step!r}: {message}")
        self.step = step
        self.message = message


class InjectionFailed(FaultError):
    pass


class NotVerified(FaultError):
    pass


class NoEffect(NotVerified):
    """Reads ``fault <step>: <what was missing>``."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(step, message)
        self.args = (f"fault {step}: {message}",)


class RollbackFailed(FaultError):
    pass
