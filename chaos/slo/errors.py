"""Errors of the SLO backends: one tree, so callers catch ours, not aiohttp's.

SloError                     (a chaos.errors.ChaosbedError) SLIs cannot be read (exit 5)
├── UnsupportedIndicator     an SLO this backend cannot evaluate (refused at plan time; exit 2)
├── BackendUnavailable       Prometheus did not answer (connection refused, timeout)
└── QueryFailed              Prometheus answered with an error, or with more than one number

(Starting Prometheus is the runtime's: chaos.runtime.errors.PrometheusStartError.)
"""

from __future__ import annotations

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

__all__ = [
    "BackendUnavailable",
    "QueryFailed",
    "SloError",
    "UnsupportedIndicator",
]


class SloError(ChaosbedError):
    """Base of every error raised by chaos.slo."""

    exit_code = ExitCode.INFRASTRUCTURE_FAILED


class UnsupportedIndicator(SloError):
    """The SLO `slo` cannot be evaluated by this backend; the message says why."""

    exit_code = ExitCode.INVALID_INPUT

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
