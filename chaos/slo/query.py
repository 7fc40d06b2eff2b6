"""What an SLO reads: a small plan that both backends evaluate the same way.

`plan(slo)` turns an SLO into one of three queries over label selectors:

- `RatioQuery` (availability): 100 * increase(good) / increase(good + bad)
  over the window, each side summed over every series its selectors match.
- `QuantileQuery` (latency): the histogram quantile of the bucket increases
  over the window, summed by `le` across every matched histogram, in ms.
  At the edge, the callers' histogram holds only tries that reached the
  service (see `outcomes`).
- `RawQuery` (PromQL): the expression as written; only Prometheus runs it.

The prometheus backend renders the plan with `to_promql`; the scrape backend
matches the same selectors against the samples it scraped. What each source
reads and which outcomes are good or bad is in `outcomes`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

from chaos.experiment.model import JOURNEY_SERVICE, Availability, Latency, PromQL, Slo
from services.topology import Metric

from .errors import UnsupportedIndicator
from .outcomes import (
    DEPENDENCY_BAD,
    DEPENDENCY_GOOD,
    JOURNEY_ROUTES,
    MEMBER_BAD,
    MEMBER_GOOD,
    NON_MEMBER_ROUTES,
    SERVER_BAD_STATUS,
    SERVER_NEUTRAL_STATUS,
)

__all__ = [
    "Matcher",
    "Query",
    "QuantileQuery",
    "RatioQuery",
    "RawQuery",
    "Selector",
    "duration",
    "plan",
    "to_promql",
]

MEMBER_REQUESTS = Metric.MEMBER_REQUESTS
MEMBER_DURATION = f"{Metric.MEMBER_DURATION}_bucket"
DEPENDENCY_CALLS = Metric.DEPENDENCY_CALLS
DEPENDENCY_DURATION = f"{Metric.DEPENDENCY_DURATION}_bucket"
HTTP_REQUESTS = Metric.HTTP_REQUESTS
HTTP_DURATION = f"{Metric.HTTP_DURATION}_bucket"


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@dataclass(frozen=True)
class Matcher:
    """One PromQL label matcher; regular expressions are anchored at both ends."""

    label: str
    op: Literal["=", "!=", "=~", "!~"]
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = _regex(self.value).fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def promql(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.label}{self.op}"{escaped}"'


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple[Matcher, ...] = ()

    @classmethod
    def equal(cls, metric: str, labels: Mapping[str, str]) -> Selector:
        return cls(metric, tuple(Matcher(k, "=", v) for k, v in sorted(labels.items())))

    def matches(self, metric: str, labels: Mapping[str, str]) -> bool:
        return metric == self.metric and all(m.matches(labels) for m in self.matchers)

    def promql(self) -> str:
        inner = ",".join(m.promql() for m in self.matchers)
        return f"{self.metric}{{{inner}}}"


@dataclass(frozen=True)
class RatioQuery:
    good: tuple[Selector, ...]
    total: tuple[Selector, ...]
    window: float


@dataclass(frozen=True)
class QuantileQuery:
    quantile: float  # in [0, 1]
    buckets: tuple[Selector, ...]  # selectors of `_bucket` series
    window: float


@dataclass(frozen=True)
class RawQuery:
    promql: str


Query = RatioQuery | QuantileQuery | RawQuery


def duration(seconds: float) -> str:
    """A PromQL duration: whole seconds as `10s`, anything finer in milliseconds."""
    ms = max(1, round(seconds * 1000))
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def _one_of(values: tuple[str, ...]) -> str:
    return "|".join(re.escape(v) for v in values)


def _journey(slo: Slo, service: str, route: str) -> str:
    for journey, entry in JOURNEY_ROUTES.items():
        if entry == route and JOURNEY_SERVICE.get(journey) == service:
            return journey
    entries = [f"{r} ({j})" for j, r in JOURNEY_ROUTES.items() if JOURNEY_SERVICE[j] == service]
    known = ", ".join(entries)
    raise UnsupportedIndicator(
        slo.name,
        f"route {route!r}: member series are labelled by journey, and no journey of "
        f"{service} enters at that route (journeys: {known or 'none'}); use source: server",
    )


def _member_matchers(
    slo: Slo, service: str, route: str | None, cohort: str | None = None
) -> tuple[Matcher, ...]:
    matchers: tuple[Matcher, ...] = (Matcher("service", "=", service),)
    if route is not None:
        matchers += (Matcher("journey", "=", _journey(slo, service, route)),)
    if cohort is not None:
        matchers += (Matcher("cohort", "=", cohort),)
    return matchers


def _server_matchers(
    service: str, route: str | None, cohort: str | None = None
) -> tuple[Matcher, ...]:
    matchers: tuple[Matcher, ...] = (
        Matcher("service", "=", service),
        Matcher("route", "!~", NON_MEMBER_ROUTES),
    )
    if route is not None:
        matchers += (Matcher("route", "=", route),)
    if cohort is not None:
        matchers += (Matcher("cohort", "=", cohort),)
    return matchers


def _refuse_edge_cohort(slo: Slo, cohort: str | None) -> None:
    if cohort is not None:
        raise UnsupportedIndicator(
            slo.name,
            f"cohort {cohort!r} with source edge: callers' dependency metrics carry no "
            "cohort; use source: members or source: server for a cohort",
        )


def _refuse_edge_route(slo: Slo, route: str | None) -> None:
    if route is not None:
        raise UnsupportedIndicator(
            slo.name,
            f"route {route!r} with source edge: callers' dependency metrics carry no route; "
            "use source: members or source: server for a route",
        )


def _availability(slo: Slo, sli: Availability) -> RatioQuery:
    if sli.source == "server":
        answered = Matcher("status", "!=", SERVER_NEUTRAL_STATUS)
        base = (*_server_matchers(sli.service, sli.route, sli.cohort), answered)
        not_bad = Matcher("status", "!~", SERVER_BAD_STATUS)
        good_server = (Selector(HTTP_REQUESTS, (*base, not_bad)),)
        return RatioQuery(good_server, (Selector(HTTP_REQUESTS, base),), slo.window)
    if sli.source == "edge":
        _refuse_edge_route(slo, sli.route)
        _refuse_edge_cohort(slo, sli.cohort)
    members = _member_matchers(slo, sli.service, sli.route, sli.cohort)
    good = [_outcomes(MEMBER_REQUESTS, members, MEMBER_GOOD)]
    total = [_outcomes(MEMBER_REQUESTS, members, MEMBER_GOOD + MEMBER_BAD)]
    if sli.source == "edge":
        callers = (Matcher("dependency", "=", sli.service),)
        good.append(_outcomes(DEPENDENCY_CALLS, callers, DEPENDENCY_GOOD))
        total.append(_outcomes(DEPENDENCY_CALLS, callers, DEPENDENCY_GOOD + DEPENDENCY_BAD))
    return RatioQuery(tuple(good), tuple(total), slo.window)


def _outcomes(metric: str, matchers: tuple[Matcher, ...], outcomes: tuple[str, ...]) -> Selector:
    return Selector(metric, (*matchers, Matcher("outcome", "=~", _one_of(outcomes))))


def _latency(slo: Slo, sli: Latency) -> QuantileQuery:
    if not 0 < sli.percentile <= 100:
        raise UnsupportedIndicator(
            slo.name, f"percentile must be in (0, 100], not {sli.percentile}"
        )
    q = sli.percentile / 100.0
    if sli.source == "server":
        matchers = _server_matchers(sli.service, sli.route, sli.cohort)
        return QuantileQuery(q, (Selector(HTTP_DURATION, matchers),), slo.window)
    if sli.source == "edge":
        _refuse_edge_route(slo, sli.route)
        _refuse_edge_cohort(slo, sli.cohort)
    members = _member_matchers(slo, sli.service, sli.route, sli.cohort)
    selectors = [Selector(MEMBER_DURATION, members)]
    if sli.source == "edge":
        selectors.append(Selector(DEPENDENCY_DURATION, (Matcher("dependency", "=", sli.service),)))
    return QuantileQuery(q, tuple(selectors), slo.window)


def plan(slo: Slo) -> Query:
    """The query behind an SLO; raises UnsupportedIndicator for one no backend can read."""
    if slo.window <= 0:
        raise UnsupportedIndicator(slo.name, f"window must be positive, not {slo.window}")
    sli = slo.indicator
    if isinstance(sli, Availability):
        return _availability(slo, sli)
    if isinstance(sli, Latency):
        return _latency(slo, sli)
    if isinstance(sli, PromQL):
        return RawQuery(sli.query)
    raise UnsupportedIndicator(slo.name, f"unknown indicator {type(sli).__name__}")


def _increases(selectors: tuple[Selector, ...], window: float) -> str:
    return " or ".join(f"increase({s.promql()}[{duration(window)}])" for s in selectors)


def render(query: Query) -> str:
    """PromQL for a planned query. Series of different selectors never share a
    label set (each metric has labels the others lack), so `or` is their union."""
    if isinstance(query, RawQuery):
        return query.promql
    if isinstance(query, RatioQuery):
        good = _increases(query.good, query.window)
        total = _increases(query.total, query.window)
        return f"100 * (sum({good}) or vector(0)) / sum({total})"
    buckets = _increases(query.buckets, query.window)
    return f"1000 * histogram_quantile({query.quantile!r}, sum by (le) ({buckets}))"


def to_promql(slo: Slo) -> str:
    """The PromQL a Prometheus server evaluates for this SLO (for plans and dry runs)."""
    return render(plan(slo))
