"""Timeouts that nest: how long each try of a call may take, and what budget it sends.

The rule. A call's tries, with the backoff between them, fit inside the time
its caller allows it (the request's remaining deadline), and each try sends
its callee exactly the time it will wait for it (less a margin for the answer
to travel back). So a callee always answers, with its own tries and their
backoff done, before its caller stops waiting; the caller never times out a
hop that is still retrying, and a hang at any depth is retried only by the
hop that calls the hung service: the hops above it get its 503 naming the
failure (upstream_failure.py), which they never retry.

For try i of n planned tries (n = attempts for a retriable call, else 1),
with R the remaining deadline and B the whole budget the hop was given (R
at its first try):

    usable   = R - margin(B)                     time left for tries and waits
    share    = (usable - the most the n - i backoff waits can take) / (n - i + 1)
    timeout  = min(timeout_s, share)             when share >= the judging floor
             = min(timeout_s, usable), the last  otherwise: no retry follows it
    sent     = timeout - margin(timeout)         the callee's X-Deadline-Ms

    margin(x) = min(50 ms, 10% of x)

The margin is the whole budget's, kept back from every try, the last one
too: a tenth of what is left at the last try is a few milliseconds, and a
stalled event loop (a loaded machine) then fires the last try's timer and
the hop's own deadline together, so the hop answers 504 (its deadline) and
not the 503 naming the hang it met.

The judging floor is ``min(min_try_s, timeout_s)`` (50 ms by default): a try
with at least that long that times out is the dependency's timeout (it
counts against the breaker and may be retried); a try cut shorter by the
deadline that times out is the caller's own deadline (`DeadlineExceeded`:
neutral, never retried). A retry is not started unless the floor fits after
its backoff. A try that would send less than 1 ms is not sent at all.

`call_plan_s` is the most time one call takes with its full tries: a caller's
per-try timeout to a service should be at least that service's own plan for
the hang of its dependency to be retried by that service and not cut short.
"""

from __future__ import annotations

from dataclasses import dataclass

from .settings import DependencySettings

MARGIN_MAX_S = 0.05
MARGIN_SHARE = 0.10
MIN_SENT_S = 0.001  # X-Deadline-Ms is whole milliseconds: less than 1 ms is not sent


@dataclass(frozen=True)
class TryTimeout:
    """One try's timer: `seconds` to wait, `sent_s` to send as the callee's
    deadline, and whether a timeout `judges` the dependency (else it is neutral)."""

    seconds: float
    sent_s: float
    judges: bool


def margin_s(budget_s: float) -> float:
    """Time kept back from a budget for an answer to travel: 10%, at most 50 ms."""
    return min(MARGIN_MAX_S, MARGIN_SHARE * max(0.0, budget_s))


def judging_floor_s(settings: DependencySettings) -> float:
    return min(settings.min_try_s, settings.timeout_s)


def max_wait_s(settings: DependencySettings, attempt: int) -> float:
    """The longest backoff after try `attempt` (1-based): exponential plus full jitter, capped."""
    grown: float = settings.backoff_s * 2.0 ** (attempt - 1) + settings.backoff_s
    return max(0.0, min(grown, settings.backoff_max_s))


def backoff_reserve_s(settings: DependencySettings, attempt: int, tries: int) -> float:
    """The most the waits after tries `attempt` .. `tries - 1` can take."""
    return sum(max_wait_s(settings, k) for k in range(attempt, tries))


def call_plan_s(settings: DependencySettings) -> float:
    """The most time one call takes with all its tries timing out, backoff included."""
    return settings.attempts * settings.timeout_s + backoff_reserve_s(
        settings, 1, settings.attempts
    )


def try_timeout(
    settings: DependencySettings,
    remaining_s: float | None,
    attempt: int,
    tries: int,
    budget_s: float | None = None,
) -> TryTimeout:
    """The timer of try `attempt` of `tries`, with `remaining_s` of the deadline left
    of the `budget_s` the hop was given (by default, as if `remaining_s`)."""
    if remaining_s is None:  # no deadline (a background call): timeout_s, all tries
        seconds = settings.timeout_s
        return TryTimeout(seconds, seconds - margin_s(seconds), True)
    usable = remaining_s - margin_s(remaining_s if budget_s is None else budget_s)
    left = max(1, tries - attempt + 1)
    share = (usable - backoff_reserve_s(settings, attempt, tries)) / left
    floor = judging_floor_s(settings)
    if left > 1 and share >= floor:
        seconds = min(settings.timeout_s, share)
        return TryTimeout(seconds, seconds - margin_s(seconds), True)
    seconds = max(0.0, min(settings.timeout_s, usable))
    return TryTimeout(seconds, seconds - margin_s(seconds), seconds >= floor)


def retry_fits(
    settings: DependencySettings,
    remaining_s: float | None,
    sleep_s: float,
    budget_s: float | None = None,
) -> bool:
    """Whether a retry after `sleep_s` of backoff still has the judging floor."""
    if remaining_s is None:
        return True
    after = remaining_s - sleep_s
    return after - margin_s(after if budget_s is None else budget_s) >= judging_floor_s(settings)
