"""Which answers count as good, bad or neutral, for each series an SLI reads.

An availability SLI is good / (good + bad); neutral answers are left out of
both, because they say nothing about the health of the service measured.
Outcomes not listed here (a label value added later) are neutral too.

Members (the load generator's `chaosbed_member_requests_total{outcome}`):

    good     ok
    bad      error (a 5xx or a broken answer), timeout, unreachable (the
             connection failed: a killed service shows up here), and
             client_overloaded: the arrival was never sent because the load
             generator already held its cap of requests in flight. Requests
             pile up in flight only while services are slow to answer (a
             hang, a pause, a slow link), so the member missed its answer
             because of the stack, and leaving it out would let the worst
             moments of a fault drop out of the SLI and a run hold on the
             requests that got through. Strict on purpose: it counts against
             the service the arrival was meant for, even when another
             service held the slots (no false "held"; at worst a deviation
             that names the dropped arrivals). Dropped arrivals have no
             latency, so latency SLIs never see them.

Callers (`chaosbed_dependency_calls_total{outcome}`, one sample per try):

    good     success
    bad      error, timeout, short_circuited: the caller tried, or its
             breaker refused to try because the dependency kept failing;
             either way the caller did not get an answer from it
    neutral  rejected (the caller's own bulkhead was full: the call never
             left the caller, like the kit keeping it out of the breaker);
             budget_exhausted (recorded when the retry budget refuses a
             retry, in addition to the failed try that is already counted
             as error or timeout: counting it again would count one failure
             twice); cancelled and deadline (the caller gave up, or its
             own nearly spent deadline cut the call short); upstream_failed
             (the dependency answered that its own dependency failed: that
             failure is counted once, on the edge nearest it)

Caller latency (`chaosbed_dependency_call_duration_seconds`, the callers'
half of an edge latency SLI) times only the tries that reached the
dependency: success, error, timeout and upstream_failed. A short-circuited,
rejected, budget-refused, cancelled or deadline-cut try ends in the caller
in about a millisecond; timing it would make a dependency behind an open
breaker look fast. Such tries are counted above, never timed.

Server (`chaosbed_http_requests_total{status}`, the service's own view):

    bad      5xx, and "dropped" (the connection was dropped on purpose)
    neutral  "cancelled" (the caller went away before the answer: the kit
             cancelled the handler, so it is neither the service's success
             nor its failure; the caller counts its own side)
    good     every other status (a 4xx is a correct answer to a bad request)

Server-side SLIs leave out the routes that are not member traffic: health,
readiness, metrics and the control API.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "DEPENDENCY_BAD",
    "DEPENDENCY_GOOD",
    "JOURNEY_ROUTES",
    "MEMBER_BAD",
    "MEMBER_GOOD",
    "NON_MEMBER_ROUTES",
    "SERVER_BAD_STATUS",
    "SERVER_NEUTRAL_STATUS",
]

MEMBER_GOOD = ("ok",)
MEMBER_BAD = ("error", "timeout", "unreachable", "client_overloaded")

DEPENDENCY_GOOD = ("success",)
DEPENDENCY_BAD = ("error", "timeout", "short_circuited")

# a regular expression over the `status` label, anchored as PromQL anchors it
SERVER_BAD_STATUS = "5..|dropped"
SERVER_NEUTRAL_STATUS = "cancelled"

# a regular expression over the `route` label: routes that are not member traffic
NON_MEMBER_ROUTES = "/healthz|/readyz|/metrics|/_chaos.*"

# the route template each member journey enters its service at
JOURNEY_ROUTES: Mapping[str, str] = {
    "homepage": "/recommendations/{member}",
    "play": "/playback/start",
    "title": "/titles/{id}",
    "preferences": "/profiles/{member}",
}
