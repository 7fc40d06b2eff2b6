"""``chaosbed_playback_starts_total``: every start attempt, counted once.

Labels (closed sets): ``service``; ``outcome`` = started (a manifest was
returned), denied (refused for the request's own reason: bad input, unknown
title, region or maturity) or failed (we could not serve it: a dependency
unavailable without a usable fallback, or an internal error); ``cohort`` =
control, experiment or none. The availability SLI of playback is
``1 - failed / total``. Every combination exists at zero from the start.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from services.common.context import COHORTS
from services.topology import Metric

OUTCOMES = ("started", "denied", "failed")


class StartsCounter:
    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self.counter = Counter(
            Metric.PLAYBACK_STARTS,
            "Playback start attempts, by outcome and cohort.",
            ["service", "outcome", "cohort"],
            registry=registry,
        )
        for outcome in OUTCOMES:
            for cohort in COHORTS:
                self.counter.labels(service, outcome, cohort)

    def count(self, outcome: str, cohort: str) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        self.counter.labels(self.service, outcome, cohort if cohort in COHORTS else "none").inc()
