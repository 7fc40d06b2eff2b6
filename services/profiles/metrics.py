"""Profiles' own metric: writes by result (labels from a closed set, never a member)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from services.topology import Metric

WRITE_RESULTS = ("applied", "replayed", "conflict", "invalid", "failed")


class WriteMetrics:
    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self.writes = Counter(
            Metric.PROFILE_WRITES,
            "Preference writes by result: applied, replayed (same idempotency key),"
            " conflict (key reused for another write), invalid, failed (store error).",
            ["service", "result"],
            registry=registry,
        )
        for result in WRITE_RESULTS:
            self.writes.labels(service, result)

    def write(self, result: str) -> None:
        if result not in WRITE_RESULTS:
            raise ValueError(f"write result must be one of {WRITE_RESULTS}, not {result!r}")
        self.writes.labels(self.service, result).inc()
