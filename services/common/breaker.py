"""Circuit breakers (pybreaker) whose state changes reach the metrics."""

from __future__ import annotations

import logging
from typing import Any

import pybreaker

from .metrics import Metrics

log = logging.getLogger(__name__)


class BreakerMetricsListener(pybreaker.CircuitBreakerListener):
    """Publishes every state change as chaosbed_circuit_breaker_state and a log line."""

    def __init__(self, metrics: Metrics, dependency: str) -> None:
        self.metrics = metrics
        self.dependency = dependency

    def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
        old = getattr(old_state, "name", None)
        self.metrics.set_breaker_state(self.dependency, new_state.name)
        log.warning(
            "circuit breaker %s -> %s changed %s -> %s",
            self.metrics.service,
            self.dependency,
            old,
            new_state.name,
        )


def make_breaker(
    metrics: Metrics, dependency: str, fail_max: int, reset_s: float
) -> pybreaker.CircuitBreaker:
    """One breaker per dependency.

    The tripping call raises its own error (not pybreaker's), so callers see
    what actually failed; later calls raise CircuitBreakerError until the
    reset timeout lets a trial call through (half-open).
    """
    return pybreaker.CircuitBreaker(
        fail_max=fail_max,
        reset_timeout=reset_s,
        listeners=[BreakerMetricsListener(metrics, dependency)],
        name=f"{metrics.service}->{dependency}",
        throw_new_error_on_trip=False,
    )
