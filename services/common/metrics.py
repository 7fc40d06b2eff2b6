"""The metrics every service exports, on a registry of its own.

Each app owns a `CollectorRegistry` (tests start fresh, several apps share a
process without colliding). Labels come only from closed sets: a member or a
title id never becomes a label. Known label combinations are pre-created so
their series exist at zero from the first scrape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.topology import APP_FAULT_KINDS, Metric

from .fault_plans import PLAN_RESULTS

# What became of one try. "upstream_failed": the dependency answered that its
# own dependency failed (that failure is counted at the hop nearest it, see
# upstream_failure.py). The last three are neither the dependency's success
# nor its failure: the caller cancelled, the caller's own deadline ran out, or
# our own code raised something unexpected (e.g. a body that is not JSON-able).
OUTCOMES = (
    "success", "error", "timeout", "rejected", "short_circuited", "budget_exhausted",
    "upstream_failed", "cancelled", "deadline", "internal",
)  # fmt: skip
# The outcomes of a try that reached the dependency and ended there: only these
# tries' durations are observed (a refused or caller-cut try would report the
# caller's own speed, e.g. 0 ms for a short-circuit, as the dependency's
# latency), and only first tries ending so count as requests the retry budget
# may be judged against.
REACHED_OUTCOMES = ("success", "error", "timeout", "upstream_failed")
BREAKER_STATES = {"closed": 0, "open": 1, "half-open": 2}
FALLBACK_RESULTS = ("served", "failed")
FAULT_KINDS = APP_FAULT_KINDS
FAULT_SIDES = ("server", "client")  # a rule on a route of the service, or on an outgoing edge
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0,
)  # fmt: skip


@dataclass(frozen=True)
class DependencyMetrics:
    """One dependency's label children, looked up once instead of on every call."""

    calls: Mapping[str, Counter]  # by outcome
    duration: Histogram
    retries: Counter
    first_tries: Counter

    def try_ended(self, outcome: str, seconds: float, *, retry: bool) -> None:
        """Count one try by its outcome; a try that reached the dependency is
        also timed, and counted as a first try unless it was a retry."""
        self.calls[outcome].inc()
        if outcome in REACHED_OUTCOMES:
            self.duration.observe(seconds)
            if not retry:
                self.first_tries.inc()


class Metrics:
    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = CollectorRegistry() if registry is None else registry
        r = self.registry
        self.http_requests = Counter(
            Metric.HTTP_REQUESTS,
            "HTTP requests served, by route template, method, status and cohort.",
            ["service", "route", "method", "status", "cohort"],
            registry=r,
        )
        self.http_duration = Histogram(
            Metric.HTTP_DURATION,
            "Time to serve an HTTP request.",
            ["service", "route", "method", "status", "cohort"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.dependency_calls = Counter(
            Metric.DEPENDENCY_CALLS,
            "Outgoing calls to a dependency, one per try, by outcome.",
            ["service", "dependency", "outcome"],
            registry=r,
        )
        self.dependency_duration = Histogram(
            Metric.DEPENDENCY_DURATION,
            "Time of one try of an outgoing call that reached the dependency (outcome "
            "success, error, timeout or upstream_failed); refused, cancelled and "
            "deadline-cut tries are not observed.",
            ["service", "dependency"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.first_tries = Counter(
            Metric.FIRST_TRIES,
            "First tries of outgoing calls that reached the dependency (retries and "
            "tries refused by the caller's breaker, bulkhead or deadline not counted).",
            ["service", "dependency"],
            registry=r,
        )
        self.retries = Counter(
            Metric.RETRIES,
            "Retries sent to a dependency.",
            ["service", "dependency"],
            registry=r,
        )
        self.fallbacks = Counter(
            Metric.FALLBACKS,
            "Fallbacks used instead of a dependency's answer, by result.",
            ["service", "dependency", "fallback", "result"],
            registry=r,
        )
        self.breaker_state = Gauge(
            Metric.BREAKER_STATE,
            "Circuit breaker state per dependency: 0 closed, 1 open, 2 half-open.",
            ["service", "dependency"],
            registry=r,
        )
        self.faults_active = Gauge(
            Metric.FAULTS_ACTIVE,
            "Fault rules currently active in this service, by kind.",
            ["service", "kind"],
            registry=r,
        )
        self.fault_matches = Counter(
            Metric.FAULT_MATCHES,
            "Requests a fault rule acted on, by the rule's kind and side (server or client).",
            ["service", "kind", "side"],
            registry=r,
        )
        self.fault_plans = Counter(
            Metric.FAULT_PLANS,
            "Signed fault plans requests carried, by what became of them: accepted, or"
            " ignored as unsigned, bad_signature, expired or malformed.",
            ["service", "result"],
            registry=r,
        )
        self.fault_plan_actions = Counter(
            Metric.FAULT_PLAN_ACTIONS,
            "Faults of accepted fault plans acted out on this service's dependency calls.",
            ["service", "dependency", "fault"],
            registry=r,
        )
        for result in PLAN_RESULTS:
            self.fault_plans.labels(service, result)
        for kind in FAULT_KINDS:
            self.faults_active.labels(service, kind).set(0)
            for side in FAULT_SIDES:
                self.fault_matches.labels(service, kind, side)
        self._fallback_dependency: dict[str, str] = {}
        # (route, method, status, cohort) -> its counter and histogram children:
        # labels() costs a lock and a tuple build per call; each key is from closed sets.
        self._http_children: dict[tuple[str, str, str, str], tuple[Counter, Histogram]] = {}

    def observe_request(
        self, route: str, method: str, status: str, cohort: str, seconds: float
    ) -> None:
        """Count one served request and observe its duration."""
        key = (route, method, status, cohort)
        children = self._http_children.get(key)
        if children is None:
            labels = (self.service, *key)
            children = (self.http_requests.labels(*labels), self.http_duration.labels(*labels))
            self._http_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def register_dependency(self, dependency: str) -> DependencyMetrics:
        """Create the dependency's series at zero; returns their label children."""
        calls = {o: self.dependency_calls.labels(self.service, dependency, o) for o in OUTCOMES}
        self.breaker_state.labels(self.service, dependency).set(BREAKER_STATES["closed"])
        return DependencyMetrics(
            calls=calls,
            duration=self.dependency_duration.labels(self.service, dependency),
            retries=self.retries.labels(self.service, dependency),
            first_tries=self.first_tries.labels(self.service, dependency),
        )

    def register_fallbacks(self, fallbacks: Mapping[str, str]) -> None:
        """Declare the service's fallbacks, each with the dependency it stands in for."""
        for name, dependency in fallbacks.items():
            self._fallback_dependency[name] = dependency
            for result in FALLBACK_RESULTS:
                self.fallbacks.labels(self.service, dependency, name, result)

    def fallback(self, fallback: str, result: str) -> None:
        if result not in FALLBACK_RESULTS:
            raise ValueError(f"fallback result must be one of {FALLBACK_RESULTS}, not {result!r}")
        dependency = self._fallback_dependency.get(fallback)
        if dependency is None:
            raise ValueError(f"fallback {fallback!r} was never registered (register_fallbacks)")
        self.fallbacks.labels(self.service, dependency, fallback, result).inc()

    def call_outcome(self, dependency: str, outcome: str) -> None:
        self.dependency_calls.labels(self.service, dependency, outcome).inc()

    def set_breaker_state(self, dependency: str, state: str) -> None:
        self.breaker_state.labels(self.service, dependency).set(BREAKER_STATES[state])
