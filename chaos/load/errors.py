"""What can go wrong in the load generator.

LoadError                  (a chaos.errors.ChaosbedError) any failure of the load generator
│                          (exit 5)
├── InvalidLoad            a setting out of bounds; names the field (exit 2)
└── MetricsServerError     the /metrics endpoint could not be served (port busy, ...)
"""

from __future__ import annotations

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

__all__ = ["InvalidLoad", "LoadError", "MetricsServerError"]


class LoadError(ChaosbedError):
    """Any failure of the load generator."""

    exit_code = ExitCode.INFRASTRUCTURE_FAILED


class InvalidLoad(LoadError, ValueError):
    """A load setting is out of bounds; `field` names it."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class MetricsServerError(LoadError):
    """The client-side metrics endpoint could not be started."""
