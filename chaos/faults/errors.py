"""What can go wrong with a fault. Every one of them is the infrastructure
failing (exit 5): a fault that did nothing cannot test a hypothesis.

    FaultError
    ├── InjectionFailed   the layer refused or could not be reached
    ├── NotVerified       injected, but the effect could not be observed
    └── RollbackFailed    the layer could not undo it (cleanup will)
"""

from __future__ import annotations

__all__ = ["FaultError", "InjectionFailed", "NotVerified", "RollbackFailed"]


class FaultError(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"step {step!r}: {message}")
        self.step = step
        self.message = message


class InjectionFailed(FaultError):
    pass


class NotVerified(FaultError):
    pass


class RollbackFailed(FaultError):
    pass
