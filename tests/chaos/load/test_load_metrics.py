"""Client-side metrics: pre-created, counting what members saw, served for Prometheus."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from chaos.experiment.model import JOURNEY_SERVICE, LoadSpec
from chaos.load import (
    COHORTS,
    OUTCOMES,
    LoadConfig,
    LoadGenerator,
    LoadMetrics,
    MetricsServerError,
    Sample,
    serve_metrics,
)
from services.common.metrics import LATENCY_BUCKETS

from .conftest import Upstream

REQUESTS = "chaosbed_member_requests_total"
DURATION = "chaosbed_member_request_duration_seconds"


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    found = registry.get_sample_value(name, labels)
    assert found is not None, (name, labels)
    return found


def test_every_journey_cohort_and_outcome_series_exists_at_zero() -> None:
    metrics = LoadMetrics()
    for journey, service in JOURNEY_SERVICE.items():
        for cohort in COHORTS:
            labels = {"journey": journey, "service": service, "cohort": cohort}
            for outcome in OUTCOMES:
                assert value(metrics.registry, REQUESTS, **labels, outcome=outcome) == 0
            assert value(metrics.registry, DURATION + "_count", **labels) == 0


def test_a_sample_counts_once_and_its_latency_lands_in_the_histogram() -> None:
    metrics = LoadMetrics()
    metrics.observe(Sample("play", "playback", "experiment", "timeout", None, 0.0, 0.4, 0.0))
    metrics.observe(Sample("play", "playback", "experiment", "client_overloaded", None, 0, 0, 0))
    labels = {"journey": "play", "service": "playback", "cohort": "experiment"}
    assert value(metrics.registry, REQUESTS, **labels, outcome="timeout") == 1
    assert value(metrics.registry, REQUESTS, **labels, outcome="client_overloaded") == 1
    # an arrival that was never sent has no latency
    assert value(metrics.registry, DURATION + "_count", **labels) == 1
    assert value(metrics.registry, DURATION + "_bucket", **labels, le="0.3") == 0
    assert value(metrics.registry, DURATION + "_bucket", **labels, le="0.5") == 1


async def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        family.name: [(s.labels, s.value) for s in family.samples]
        for family in text_string_to_metric_families(text)
    }


async def test_a_run_is_scraped_over_http_with_the_services_latency_buckets(
    upstream: Upstream,
) -> None:
    metrics = LoadMetrics()
    spec = LoadSpec(rate=60.0, mix={"homepage": 1.0, "title": 1.0}, experiment_percent=50.0)
    samples: list[Sample] = []
    config = LoadConfig(spec, 1.0, upstream.targets())
    async with serve_metrics(metrics.registry, "127.0.0.1", 0) as url:
        results = await LoadGenerator(config, metrics=metrics, observers=[samples.append]).run()
        families = await scrape(url)
    counted = sum(v for labels, v in families["chaosbed_member_requests"] if labels)
    assert counted == results.arrivals == len(samples) > 20
    ok = sum(v for labels, v in families["chaosbed_member_requests"] if labels["outcome"] == "ok")
    assert ok == len(samples)
    buckets = {
        float(labels["le"])
        for labels, _ in families["chaosbed_member_request_duration_seconds"]
        if "le" in labels
    }
    assert buckets == {*LATENCY_BUCKETS, float("inf")}


async def test_metrics_can_be_served_on_all_interfaces_for_a_container_to_scrape() -> None:
    metrics = LoadMetrics()
    async with serve_metrics(metrics.registry, "0.0.0.0", 0) as url:
        assert url.startswith("http://127.0.0.1:")
        families = await scrape(url)
    assert "chaosbed_member_requests" in families


async def test_a_busy_metrics_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            MetricsServerError, match=f"cannot serve client metrics on 127.0.0.1:{port}"
        ):
            async with serve_metrics(LoadMetrics().registry, "127.0.0.1", port):
                pass
