"""The upstream-failure contract: how a service says "my own dependency failed".

A service that cannot answer because one of its dependencies failed (an
error, a timeout, an open breaker, a full bulkhead, a spent retry budget or
deadline) answers **503** with

- ``X-Chaosbed-Upstream-Failure: <dependency>``: the dependency that failed;
- ``Retry-After: <seconds>``: until that dependency's breaker half-opens when
  it is open, else 1.

The kit's `Dependency` client never retries an answer carrying that header
(it raises `UpstreamFailed`, which is not retriable): the hop nearest the
failure has already retried within its retry budget, so a fault deep in the
graph is retried once, there, and not again at every hop above it.

Nor does the caller's breaker count that answer as a failure: it counts a
success, and the try's outcome is ``upstream_failed``. A calls B, B calls C,
C is down. B is healthy: it answers fast, its own breaker to C is open, and
its answer says so. Were A's breaker to B to count those answers, it would
open too, and then A would stop calling B altogether: B's routes that need
no C, and B's degraded answers from a fallback, would be cut off as well,
and when C came back, A would wait out one more reset timeout per hop
before it found out. A breaker judges the health of the hop it guards; a
failure is judged once, by the breaker nearest it (B's breaker to C), as it
is retried once, there. The same holds for a half-open trial: B answering
"C failed" proves B is back, and the breaker closes.

What A's breaker to B still counts against B: B's own 5xx (no header), its
timeouts (a B slow to say "C failed" is a slow B), a dropped connection,
429 and an oversized answer.

The deadline contract. A service that stops because the budget its caller
sent (``X-Deadline-Ms``) ran out (shed on arrival, its handler cancelled at
the deadline, or a call of its own refused or cut short by that deadline)
answers **504** with ``X-Chaosbed-Deadline-Exceeded: <service>``. The
caller's `Dependency` raises `DeadlineExceeded` for that answer, as for its
own deadline running out: neutral to the breaker, never retried. A 504 from
an injected server-side latency or hang carries no such header: that fault
plays a slow service, and its caller judges it so.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .dependency import Dependency

UPSTREAM_FAILURE_HEADER = "X-Chaosbed-Upstream-Failure"
DEADLINE_EXCEEDED_HEADER = "X-Chaosbed-Deadline-Exceeded"
RETRY_AFTER_HEADER = "Retry-After"
DEFAULT_RETRY_AFTER_S = 1


def retry_after_s(dependency: Dependency | None) -> int:
    """Whole seconds until `dependency`'s breaker half-opens if it is open, else 1."""
    if dependency is None:
        return DEFAULT_RETRY_AFTER_S
    left = dependency.breaker.seconds_until_half_open()
    return max(DEFAULT_RETRY_AFTER_S, math.ceil(left))


def mark_upstream_failure(
    response: web.Response, dependency: str, client: Dependency | None = None
) -> web.Response:
    """Say on `response` that `dependency` failed (and when to retry); returns it.

    `client` is the `Dependency` for it, when the service has one: its breaker
    decides ``Retry-After``.
    """
    response.headers[UPSTREAM_FAILURE_HEADER] = dependency
    response.headers[RETRY_AFTER_HEADER] = str(retry_after_s(client))
    return response


def mark_deadline_exceeded(response: web.Response, service: str) -> web.Response:
    """Say on `response` (a 504) that `service` stopped because its caller's budget ran out."""
    response.headers[DEADLINE_EXCEEDED_HEADER] = service
    return response
