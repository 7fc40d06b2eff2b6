"""What a member saw: one answered (or failed) request, and how it is classified.

Outcomes form a closed set (they become a metric label):

    ok                 an answer below 500 other than 429 (a 403 maturity
                       denial or a 404 is a correct answer)
    error              a 5xx or 429 answer, or the connection broke mid-request
    timeout            no answer within the client timeout, counted from the
                       scheduled send time
    unreachable        no connection could be made (refused, no route)
    client_overloaded  the generator had too many requests in flight and did
                       not send this one: still a failure, never skipped
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OUTCOMES", "Sample", "outcome_of_status"]

OUTCOMES: tuple[str, ...] = ("ok", "error", "timeout", "unreachable", "client_overloaded")


def outcome_of_status(status: int) -> str:
    """`ok` for a good HTTP answer, `error` for 5xx and 429."""
    return "error" if status >= 500 or status == 429 else "ok"


@dataclass(frozen=True)
class Sample:
    """One arrival's result. Times are on the event loop's monotonic clock."""

    journey: str
    service: str
    cohort: str
    outcome: str
    status: int | None
    """The HTTP status, None when no answer came."""
    scheduled_at: float
    """When the request was due to be sent."""
    latency: float
    """Seconds from `scheduled_at` to the end of the answer (0 when never sent)."""
    lag: float
    """Seconds the send started after `scheduled_at` (scheduler lag)."""
    member: str = ""
    """The member id (`m-N`)."""

    @property
    def good(self) -> bool:
        return self.outcome == "ok"

    @property
    def sent(self) -> bool:
        return self.outcome != "client_overloaded"
