"""Errors of the SLO backends: one tree, so callers catch ours, not aiohttp's.

SloError
├── UnsupportedIndicator     an SLO this backend cannot evaluate (refused at plan time)
├── BackendUnavailable       Prometheus did not answer (connection refused, timeout)
├── QueryFailed              Prometheus answered with an error, or with more than one number
└── PrometheusStartError     the prometheus binary is missing, exited, or never became ready
"""

from __future__ import annotations

__all__ = [
    "BackendUnavailable",
    "PrometheusStartError",
    "QueryFailed",
    "SloError",
    "UnsupportedIndicator",
]


class SloError(Exception):
    """Base of every error raised by chaos.slo."""


class UnsupportedIndicator(SloError):
    """The SLO `slo` cannot be evaluated by this backend; the message says why."""

    def __init__(self, slo: str, message: str) -> None:
        super().__init__(f"SLO {slo!r}: {message}")
        self.slo = slo


class BackendUnavailable(SloError):
    """The metrics backend could not be reached."""


class QueryFailed(SloError):
    """The backend refused a query or answered with something that is not one number."""

    def __init__(self, query: str, message: str) -> None:
        super().__init__(f"{message} (query: {query})")
        self.query = query


class PrometheusStartError(SloError):
    """Prometheus could not be started."""
