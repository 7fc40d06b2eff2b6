"""What can go wrong in the load generator.

LoadError                  any failure of the load generator
├── InvalidLoad            a setting out of bounds; names the field
└── MetricsServerError     the /metrics endpoint could not be served (port busy, ...)
"""

from __future__ import annotations

__all__ = ["InvalidLoad", "LoadError", "MetricsServerError"]


class LoadError(Exception):
    """Any failure of the load generator."""


class InvalidLoad(LoadError, ValueError):
    """A load setting is out of bounds; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class MetricsServerError(LoadError):
    """The client-side metrics endpoint could not be started."""
