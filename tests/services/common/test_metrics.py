"""Metrics on a registry of their own: pre-created series and closed label sets."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from services.common import Metrics


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, {"service": "recs", **labels})


CACHE = {"dependency": "catalog", "fallback": "popular_cache"}


def test_each_metrics_object_has_its_own_registry() -> None:
    a, b = Metrics("recs"), Metrics("recs")
    a.register_fallbacks({"popular_cache": "catalog"})

    a.fallback("popular_cache", "served")

    assert sample(a, "chaosbed_fallbacks_total", **CACHE, result="served") == 1
    assert sample(b, "chaosbed_fallbacks_total", **CACHE, result="served") is None


def test_registered_fallbacks_exist_at_zero_labelled_with_their_dependency() -> None:
    metrics = Metrics("recs", CollectorRegistry())

    metrics.register_fallbacks({"default_preferences": "profiles"})

    for result in ("served", "failed"):
        labels = {"dependency": "profiles", "fallback": "default_preferences", "result": result}
        assert sample(metrics, "chaosbed_fallbacks_total", **labels) == 0


def test_a_fallback_result_outside_the_closed_set_is_refused() -> None:
    metrics = Metrics("recs")
    metrics.register_fallbacks({"popular_cache": "catalog"})

    with pytest.raises(ValueError, match="served"):
        metrics.fallback("popular_cache", "m-42")


def test_an_unregistered_fallback_is_refused_so_labels_stay_a_closed_set() -> None:
    metrics = Metrics("recs")

    with pytest.raises(ValueError, match="never registered"):
        metrics.fallback("made_up", "served")


def test_breaker_states_are_published_as_numbers() -> None:
    metrics = Metrics("recs")
    metrics.register_dependency("profiles")

    states = []
    for state in ("open", "half-open", "closed"):
        metrics.set_breaker_state("profiles", state)
        states.append(sample(metrics, "chaosbed_circuit_breaker_state", dependency="profiles"))

    assert states == [1, 2, 0]


def test_every_dependency_outcome_exists_at_zero_neutral_ones_included() -> None:
    metrics = Metrics("recs")

    metrics.register_dependency("profiles")

    for outcome in ("cancelled", "deadline", "internal", "success", "error"):
        labels = {"dependency": "profiles", "outcome": outcome}
        assert sample(metrics, "chaosbed_dependency_calls_total", **labels) == 0, outcome
