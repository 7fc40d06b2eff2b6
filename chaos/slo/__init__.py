"""SLOs where members see them, read by one of two backends with the same answers.

- `PrometheusReader`: SLOs translated to PromQL (`to_promql`) and read from
  a Prometheus server's HTTP API.
- `ScrapeReader`: the runner scrapes every target's /metrics itself and
  computes the same quantities (`promql_functions`).

Both are `SliReader`s. What counts as good, bad or neutral: `outcomes`.
Running a Prometheus (its config, the server) is chaos.runtime.prometheus's part.
"""

from __future__ import annotations

from .errors import (
    BackendUnavailable,
    QueryFailed,
    SloError,
    UnsupportedIndicator,
)
from .history import SampleHistory
from .prometheus import PrometheusReader
from .query import plan, to_promql
from .reader import SliReader
from .scrape import ScrapeReader, ScrapeTarget

__all__ = [
    "BackendUnavailable",
    "PrometheusReader",
    "QueryFailed",
    "SampleHistory",
    "ScrapeReader",
    "ScrapeTarget",
    "SliReader",
    "SloError",
    "UnsupportedIndicator",
    "plan",
    "to_promql",
]
