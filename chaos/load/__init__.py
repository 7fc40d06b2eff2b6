"""Open-loop member traffic: the journeys, cohorts, client-side SLIs and results.

`LoadGenerator(LoadConfig(spec, duration)).run()` drives Poisson arrivals at
the services; `LoadMetrics` holds what members saw for Prometheus
(`serve_metrics` exposes it), and the returned `LoadResults` go into the
journal. `chaos.load.cli` is the `chaosbed load` command.
"""

from chaos.load.cohort import COHORTS, cohort_of
from chaos.load.config import MAX_DURATION_S, MAX_RATE, LoadConfig, Targets, check_spec
from chaos.load.errors import InvalidLoad, LoadError, MetricsServerError
from chaos.load.generator import LoadGenerator, Observer, Progress
from chaos.load.metrics import LoadMetrics
from chaos.load.metrics_server import DEFAULT_METRICS_PORT, create_metrics_app, serve_metrics
from chaos.load.outcome import OUTCOMES, Sample, outcome_of_status
from chaos.load.results import JourneyTotals, LoadResults, SecondStats
from chaos.load.schedule import poisson_arrivals
from services.vocabulary.devices import (
    DEVICE_SHARES,
    DEVICE_TYPE_HEADER,
    DEVICE_TYPES,
    device_type_of,
)

__all__ = [
    "COHORTS",
    "DEFAULT_METRICS_PORT",
    "DEVICE_SHARES",
    "DEVICE_TYPES",
    "DEVICE_TYPE_HEADER",
    "MAX_DURATION_S",
    "MAX_RATE",
    "OUTCOMES",
    "InvalidLoad",
    "JourneyTotals",
    "LoadConfig",
    "LoadError",
    "LoadGenerator",
    "LoadMetrics",
    "LoadResults",
    "MetricsServerError",
    "Observer",
    "Progress",
    "Sample",
    "SecondStats",
    "Targets",
    "check_spec",
    "cohort_of",
    "create_metrics_app",
    "device_type_of",
    "outcome_of_status",
    "poisson_arrivals",
    "serve_metrics",
]
