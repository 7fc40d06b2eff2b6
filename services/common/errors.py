"""Errors of the resilience kit.

Callers catch these, never the library exceptions underneath (aiohttp,
pybreaker, tenacity)::

    KitError
    ├── DependencyError            an outgoing call did not produce a usable answer
    │   ├── DependencyUnavailable  connection refused, reset or dropped
    │   ├── DependencyTimeout      a try outlived its per-try timeout
    │   ├── DependencyHTTPError    the dependency answered 5xx
    │   │   └── UpstreamFailed     ... because its own dependency failed (never retried)
    │   ├── CircuitOpen            the breaker is open: the call was not sent
    │   ├── BulkheadFull           too many calls in flight: rejected at once
    │   ├── RetryBudgetExhausted   a retry was wanted but the budget said no
    │   └── DeadlineExceeded       the request's deadline passed before sending
    └── InvalidFaultRule           a fault rule failed validation (names the field)
"""

from __future__ import annotations


class KitError(Exception):
    """Base of every error raised by services.common."""


class DependencyError(KitError):
    """An outgoing call to `dependency` failed; `outcome` is its metrics label."""

    outcome = "error"

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(f"{dependency}: {message}")
        self.dependency = dependency


class DependencyUnavailable(DependencyError):
    outcome = "error"


class DependencyTimeout(DependencyError):
    outcome = "timeout"


class DependencyHTTPError(DependencyError):
    outcome = "error"

    def __init__(self, dependency: str, status: int) -> None:
        super().__init__(dependency, f"answered HTTP {status}")
        self.status = status


class UpstreamFailed(DependencyHTTPError):
    """A 5xx saying the dependency's own dependency `upstream` failed.

    Not retried: the hop nearest the failure already retried (see
    upstream_failure.py for the contract).
    """

    def __init__(self, dependency: str, status: int, upstream: str) -> None:
        message = f"answered HTTP {status}: its own dependency {upstream} failed"
        DependencyError.__init__(self, dependency, message)
        self.status = status
        self.upstream = upstream


class CircuitOpen(DependencyError):
    outcome = "short_circuited"


class BulkheadFull(DependencyError):
    outcome = "rejected"


class RetryBudgetExhausted(DependencyError):
    outcome = "budget_exhausted"


class DeadlineExceeded(DependencyError):
    outcome = "timeout"


class InvalidFaultRule(KitError):
    """A fault rule is invalid; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
