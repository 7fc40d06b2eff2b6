"""SLOs where members see them, read by one of two backends with the same answers.

- `PrometheusReader`: SLOs translated to PromQL (`to_promql`) and read from
  a Prometheus server's HTTP API.
- `ScrapeReader`: the runner scrapes every target's /metrics itself and
  computes the same quantities (`promql_functions`).

Both are `SliReader`s. What counts as good, bad or neutral: `outcomes`.
`write_prometheus_config` and `start_prometheus` run a Prometheus for the
process runtime.
"""

from __future__ import annotations

from .errors import (
    BackendUnavailable,
    PrometheusStartError,
    QueryFailed,
    SloError,
    UnsupportedIndicator,
)
from .history import SampleHistory
from .prometheus import PrometheusReader
from .prometheus_config import DEFAULT_JOBS, bundled_rule_files, write_prometheus_config
from .prometheus_process import (
    PrometheusProcess,
    find_prometheus,
    prometheus_command,
    start_prometheus,
)
from .query import plan, to_promql
from .reader import SliReader
from .scrape import ScrapeReader, ScrapeTarget

__all__ = [
    "DEFAULT_JOBS",
    "BackendUnavailable",
    "PrometheusProcess",
    "PrometheusReader",
    "PrometheusStartError",
    "QueryFailed",
    "SampleHistory",
    "ScrapeReader",
    "ScrapeTarget",
    "SliReader",
    "SloError",
    "UnsupportedIndicator",
    "bundled_rule_files",
    "find_prometheus",
    "plan",
    "prometheus_command",
    "start_prometheus",
    "to_promql",
    "write_prometheus_config",
]
