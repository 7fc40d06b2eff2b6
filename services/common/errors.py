"""Errors of the resilience kit.

Callers catch these, never the library exceptions underneath (aiohttp,
pybreaker, tenacity)::

    KitError
    ├── DependencyError            an outgoing call did not produce a usable answer
    │   ├── DependencyUnavailable  connection refused, reset or dropped
    │   ├── DependencyTimeout      a try outlived its per-try timeout
    │   │   └── DeadlineExceeded   the request's own deadline ran out (before or while
    │   │                          sending), or the dependency said the budget sent ran out
    │   ├── DependencyHTTPError    the dependency answered 5xx
    │   │   ├── UpstreamFailed     ... because its own dependency failed (never retried)
    │   │   └── DependencyOverloaded  ... or 429 Too Many Requests
    │   ├── ResponseTooLarge       the answer's body is over max_body_bytes
    │   ├── CircuitOpen            the breaker is open: the call was not sent
    │   ├── BulkheadFull           too many calls in flight: rejected at once
    │   └── RetryBudgetExhausted   a retry was wanted but the budget said no
    ├── TooManyFaultRules          the service already holds its cap of active rules
    └── InvalidField               outside input is unusable; `field` names what is wrong
        └── InvalidFaultRule       a fault rule failed validation

`InvalidField` is the one field error of chaosbed: every service raises it for
bad input and answers it with a 400 whose body names the field (`bad_request`
in body.py). It is also a ValueError, so parsers of a dependency's answer can
raise it to callers that catch ValueError.
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

    Not retried: the hop nearest the failure already retried. Not the
    dependency's failure either: it answered, under the contract, so its
    breaker counts a success (see upstream_failure.py).
    """

    outcome = "upstream_failed"

    def __init__(self, dependency: str, status: int, upstream: str) -> None:
        message = f"answered HTTP {status}: its own dependency {upstream} failed"
        DependencyError.__init__(self, dependency, message)
        self.status = status
        self.upstream = upstream


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
    """The caller's own deadline ran out, or the dependency answered 504 saying
    the budget sent to it did (upstream_failure.py): neutral for the breaker,
    never retried."""

    outcome = "deadline"


class InvalidField(KitError, ValueError):
    """Input is unusable; `field` names it (a JSON field, a parameter, a header or "body")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidFaultRule(InvalidField):
    """A fault rule is invalid; `field` names the offending field."""


class TooManyFaultRules(KitError):
    """The registry holds `limit` active rules already; the soonest expires in `retry_after_s`."""

    def __init__(self, limit: int, retry_after_s: float) -> None:
        super().__init__(f"at most {limit} fault rules may be active at once on a service")
        self.limit = limit
        self.retry_after_s = retry_after_s
