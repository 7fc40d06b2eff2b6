"""Errors of the resilience kit.

Callers catch these, never the library exceptions underneath (aiohttp,
pybreaker, tenacity)::

    KitError
    ├── DependencyError            an outgoing call did not produce a usable answer
    │   ├── DependencyUnavailable  connection refused, reset or dropped
    │   ├── DependencyTimeout      a try outlived its per-try timeout
    │   │   └── DeadlineExceeded   the request's own deadline ran out (before or while sending)
    │   ├── DependencyHTTPError    the dependency answered 5xx
    │   │   └── DependencyOverloaded  ... or 429 Too Many Requests
    │   ├── ResponseTooLarge       the answer's body is over max_body_bytes
    │   ├── CircuitOpen            the breaker is open: the call was not sent
    │   ├── BulkheadFull           too many calls in flight: rejected at once
    │   └── RetryBudgetExhausted   a retry was wanted but the budget said no
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


class DependencyOverloaded(DependencyHTTPError):
    """429: the dependency sheds load. Counts against its breaker; never retried."""


class ResponseTooLarge(DependencyError):
    """The answer's body exceeded the client's `max_body_bytes`; it was not read on."""

    outcome = "error"


class CircuitOpen(DependencyError):
    outcome = "short_circuited"


class BulkheadFull(DependencyError):
    outcome = "rejected"


class RetryBudgetExhausted(DependencyError):
    outcome = "budget_exhausted"


class DeadlineExceeded(DependencyTimeout):
    """The caller's own deadline ran out: neutral for the breaker, never retried."""

    outcome = "deadline"


class InvalidFaultRule(KitError):
    """A fault rule is invalid; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
