"""Replication metrics of a profiles replica (labels from closed sets: replica names, outcomes).

chaosbed_profiles_replication_lag_seconds{service, peer}
    how long the oldest version `peer` is missing has been committed here
    (0 when the peer has everything): the lag of that replica pair
chaosbed_profiles_replication_pending{service, peer}
    members whose newest version `peer` has not acknowledged
chaosbed_profiles_replication_delay_seconds{service}
    histogram: commit on the home replica -> applied here
chaosbed_profiles_replication_applied_total{service, via}
    versions applied here from a peer, via push or pull (anti-entropy)
chaosbed_profiles_conflicts_total{service}
    device syncs refused because their base version was not current
chaosbed_profiles_sync_total{service, outcome}
    device syncs by outcome
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.topology import Metric

SYNC_OUTCOMES = ("applied", "replayed", "conflict", "forwarded", "invalid", "failed")
DELAY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ReplicationMetrics:
    def __init__(self, service: str, peers: tuple[str, ...], registry: CollectorRegistry) -> None:
        self.service = service
        self.lag = Gauge(
            Metric.REPLICATION_LAG,
            "Age of the oldest committed version a peer replica has not acknowledged.",
            ["service", "peer"],
            registry=registry,
        )
        self.pending = Gauge(
            Metric.REPLICATION_PENDING,
            "Members whose newest version a peer replica has not acknowledged.",
            ["service", "peer"],
            registry=registry,
        )
        self.delay = Histogram(
            Metric.REPLICATION_DELAY,
            "Seconds from a version's commit on its home replica to its apply here.",
            ["service"],
            buckets=DELAY_BUCKETS,
            registry=registry,
        )
        self.applied = Counter(
            Metric.REPLICATION_APPLIED,
            "Versions applied here from a peer, by how they came (push or pull).",
            ["service", "via"],
            registry=registry,
        )
        self.conflicts = Counter(
            Metric.PROFILE_CONFLICTS,
            "Device syncs refused because their base version was not the current one.",
            ["service"],
            registry=registry,
        )
        self.syncs = Counter(
            Metric.PROFILE_SYNCS,
            "Device syncs by outcome.",
            ["service", "outcome"],
            registry=registry,
        )
        for peer in peers:
            self.lag.labels(service, peer).set(0)
            self.pending.labels(service, peer).set(0)
        for via in ("push", "pull"):
            self.applied.labels(service, via)
        for outcome in SYNC_OUTCOMES:
            self.syncs.labels(service, outcome)
        self.conflicts.labels(service)
        self.delay.labels(service)

    def peer_state(self, peer: str, pending: int, lag_s: float) -> None:
        self.pending.labels(self.service, peer).set(pending)
        self.lag.labels(self.service, peer).set(lag_s)

    def sync(self, outcome: str) -> None:
        if outcome not in SYNC_OUTCOMES:
            raise ValueError(f"sync outcome must be one of {SYNC_OUTCOMES}, not {outcome!r}")
        self.syncs.labels(self.service, outcome).inc()
        if outcome == "conflict":
            self.conflicts.labels(self.service).inc()

    def applied_versions(self, via: str, count: int, delays: list[float]) -> None:
        self.applied.labels(self.service, via).inc(count)
        for delay in delays:
            self.delay.labels(self.service).observe(max(0.0, delay))
