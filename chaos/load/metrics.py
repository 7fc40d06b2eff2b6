"""Client-side metrics: what members saw, for Prometheus and the SLO checks.

On a registry of the generator's own. Every journey/service/cohort/outcome
series exists at zero from the first scrape. The latency histogram has the
services' buckets, so client- and server-side quantiles compare directly; it
observes every sent request (timeouts included, at their full wait), but not
`client_overloaded` arrivals, which were never sent.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from chaos.experiment.model import JOURNEY_SERVICE
from chaos.load.cohort import COHORTS
from chaos.load.outcome import OUTCOMES, Sample
from services.common.metrics import LATENCY_BUCKETS
from services.topology import Metric

__all__ = ["LoadMetrics"]


class LoadMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = CollectorRegistry() if registry is None else registry
        self.requests = Counter(
            Metric.MEMBER_REQUESTS,
            "Member requests sent by the load generator, by journey, service, cohort and outcome.",
            ["journey", "service", "cohort", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            Metric.MEMBER_DURATION,
            "Member request latency, from the scheduled send time to the end of the answer.",
            ["journey", "service", "cohort"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        for journey, service in JOURNEY_SERVICE.items():
            for cohort in COHORTS:
                self.duration.labels(journey, service, cohort)
                for outcome in OUTCOMES:
                    self.requests.labels(journey, service, cohort, outcome)

    def member_counts(self) -> dict[tuple[tuple[str, str], ...], float]:
        """Every member-request series now, by its sorted labels."""
        return {
            tuple(sorted(sample.labels.items())): sample.value
            for family in self.requests.collect()
            for sample in family.samples
            if sample.name == Metric.MEMBER_REQUESTS
        }

    def observe(self, sample: Sample) -> None:
        self.requests.labels(sample.journey, sample.service, sample.cohort, sample.outcome).inc()
        if sample.sent:
            self.duration.labels(sample.journey, sample.service, sample.cohort).observe(
                sample.latency
            )
