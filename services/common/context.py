"""Request context carried in contextvars and forwarded on every outgoing call.

A request's deadline is an absolute point on the monotonic clock; on the wire
it travels as the remaining budget in milliseconds (``X-Deadline-Ms``), so it
shrinks hop by hop by the time each hop spent. A caller may not ask for more
than the service's ``max_deadline_ms``: a larger budget is clamped to it (not
refused: a generous caller is not wrong, but no work here outlives the cap).
"""

from __future__ import annotations

import contextvars
import itertools
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from . import mutants
from .fault_plans import PLAN_HEADER, CallRecord, FaultPlan

REQUEST_ID_HEADER = "X-Request-Id"
COHORT_HEADER = "X-Chaos-Cohort"
DEADLINE_HEADER = "X-Deadline-Ms"
COHORTS = ("control", "experiment", "none")
# Generated request ids: 32 hex digits like uuid4().hex, but a random prefix per
# process and a counter: unique, and ten times cheaper (uuid4 costs microseconds).
_ID_PREFIX = os.urandom(8).hex()
_id_counter = itertools.count(1)


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    cohort: str
    deadline: float | None  # time.monotonic() value, None = no deadline
    budget_s: float | None = None
    """The whole budget this hop was given (its deadline less its arrival): the
    answer's margin is kept back from it (timeouts.py); None: what remains."""
    plan: FaultPlan | None = None
    """A signed fault plan this request carries (fault_plans.py), forwarded on every call."""
    calls: list[CallRecord] | None = None
    """With a plan: every try of every dependency call this hop made, in start order."""

    def remaining_s(self, now: float | None = None) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - (time.monotonic() if now is None else now)

    def outgoing_headers(self) -> dict[str, str]:
        headers = {REQUEST_ID_HEADER: self.request_id}
        if self.cohort != "none":
            headers[COHORT_HEADER] = self.cohort
        remaining = self.remaining_s()
        if remaining is not None and not mutants.active("deadline-not-forwarded"):
            headers[DEADLINE_HEADER] = str(max(0, int(remaining * 1000)))
        if self.plan is not None:
            headers[PLAN_HEADER] = self.plan.header
        return headers


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "chaosbed_request_context", default=None
)


def current() -> RequestContext | None:
    return _current.get()


def current_cohort() -> str:
    ctx = _current.get()
    return "none" if ctx is None else ctx.cohort


def parse_cohort(value: str | None) -> str:
    value = (value or "").strip().lower()
    return value if value in ("control", "experiment") else "none"


def parse_deadline_ms(value: str | None) -> int | None:
    """The remaining budget from the header; None when absent or unreadable."""
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except (ValueError, OverflowError):  # OverflowError: "inf", "1e400"
        return None


def new_request_id() -> str:
    """A request id unique in this process and, by its random prefix, across processes."""
    return f"{_ID_PREFIX}{next(_id_counter):016x}"


MAX_DEADLINE_MS = 60_000


def from_headers(
    headers: Mapping[str, str],
    default_deadline_ms: int,
    now: float | None = None,
    max_deadline_ms: int = MAX_DEADLINE_MS,
) -> RequestContext:
    now = time.monotonic() if now is None else now
    budget_ms = parse_deadline_ms(headers.get(DEADLINE_HEADER))
    if budget_ms is None:
        budget_ms = default_deadline_ms
    budget_ms = min(budget_ms, max_deadline_ms)
    request_id = (headers.get(REQUEST_ID_HEADER) or "").strip()[:128] or new_request_id()
    return RequestContext(
        request_id=request_id,
        cohort=parse_cohort(headers.get(COHORT_HEADER)),
        deadline=now + budget_ms / 1000,
        budget_s=budget_ms / 1000,
    )


def bind(ctx: RequestContext) -> contextvars.Token[RequestContext | None]:
    """Make `ctx` current; undo with `unbind(token)` (cheaper than `bound` per request)."""
    return _current.set(ctx)


def unbind(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)


@contextmanager
def bound(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
