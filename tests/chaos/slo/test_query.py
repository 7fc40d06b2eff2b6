"""SLOs planned into selectors and rendered as PromQL; routes and indicators refused by name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.experiment.model import Availability, Latency, Objective, PromQL, Slo
from chaos.slo import ScrapeReader, UnsupportedIndicator, plan, to_promql
from chaos.slo.query import Matcher, RatioQuery, Selector, duration

AVAILABLE = Objective(">=", 99.5)
FAST = Objective("<", 300.0)


def test_edge_availability_reads_members_and_callers_of_the_service() -> None:
    promql = to_promql(Slo("ok", Availability("catalog"), AVAILABLE))
    assert promql == (
        '100 * (sum(increase(chaosbed_member_requests_total{service="catalog",outcome=~"ok"}[10s])'
        ' or increase(chaosbed_dependency_calls_total{dependency="catalog",outcome=~"success"}'
        "[10s])) or vector(0)) / sum(increase(chaosbed_member_requests_total"
        '{service="catalog",outcome=~"ok|error|timeout|unreachable|client_overloaded"}[10s])'
        ' or increase(chaosbed_dependency_calls_total{dependency="catalog",'
        'outcome=~"success|error|timeout|short_circuited"}[10s]))'
    )


async def test_arrivals_dropped_at_the_load_generators_in_flight_cap_count_as_bad() -> None:
    reader = ScrapeReader([], clock=lambda: 10.0)
    labels = {"journey": "play", "service": "playback", "cohort": "control"}
    for t in range(11):
        reader.history.add(
            float(t),
            [
                ("chaosbed_member_requests_total", {**labels, "outcome": "ok"}, 9.0 * t),
                (
                    "chaosbed_member_requests_total",
                    {**labels, "outcome": "client_overloaded"},
                    1.0 * t,
                ),
            ],
        )
    slo = Slo("ok", Availability("playback", source="members"), AVAILABLE)
    assert await reader.value(slo) == pytest.approx(90.0)


def test_member_availability_leaves_the_callers_out() -> None:
    promql = to_promql(Slo("ok", Availability("catalog", source="members"), AVAILABLE))
    assert "chaosbed_member_requests_total" in promql
    assert "chaosbed_dependency_calls_total" not in promql


def test_server_availability_counts_5xx_and_dropped_as_bad_on_member_routes() -> None:
    promql = to_promql(Slo("ok", Availability("playback", source="server"), AVAILABLE, 30))
    assert 'status!~"5..|dropped"' in promql
    assert 'route!~"/healthz|/readyz|/metrics|/_chaos.*"' in promql
    assert "[30s]" in promql


def test_server_availability_leaves_out_requests_whose_caller_went_away() -> None:
    promql = to_promql(Slo("ok", Availability("playback", source="server"), AVAILABLE, 30))
    good, total = promql.split(" / ")
    assert good.count('status!="cancelled"') == 1 and total.count('status!="cancelled"') == 1


def test_latency_is_a_histogram_quantile_in_milliseconds() -> None:
    slo = Slo("fast", Latency("recommendations", 99, source="server"), FAST, 2.5)
    assert to_promql(slo) == (
        "1000 * histogram_quantile(0.99, sum by (le) (increase("
        'chaosbed_http_request_duration_seconds_bucket{service="recommendations",'
        'route!~"/healthz|/readyz|/metrics|/_chaos.*"}[2500ms])))'
    )


def test_edge_latency_merges_member_and_caller_histograms() -> None:
    promql = to_promql(Slo("fast", Latency("catalog", 95), FAST))
    assert 'chaosbed_member_request_duration_seconds_bucket{service="catalog"}' in promql
    assert 'chaosbed_dependency_call_duration_seconds_bucket{dependency="catalog"}' in promql


def test_raw_promql_is_passed_through() -> None:
    assert to_promql(Slo("raw", PromQL("sum(up)"), Objective(">", 3))) == "sum(up)"


def test_a_member_route_is_read_through_its_journey() -> None:
    query = plan(Slo("ok", Availability("catalog", "/titles/{id}", "members"), AVAILABLE))
    assert isinstance(query, RatioQuery)
    assert Matcher("journey", "=", "title") in query.total[0].matchers


def test_a_route_no_journey_enters_at_is_refused_naming_it() -> None:
    slo = Slo("ok", Availability("catalog", "/popular", "members"), AVAILABLE)
    with pytest.raises(UnsupportedIndicator, match=r"SLO 'ok': route '/popular'.*/titles/\{id\}"):
        plan(slo)


def test_a_route_with_source_edge_is_refused() -> None:
    slo = Slo("ok", Availability("catalog", "/titles/{id}"), AVAILABLE)
    with pytest.raises(UnsupportedIndicator, match="source edge.*no route"):
        plan(slo)


def test_the_scrape_backend_refuses_raw_promql_at_plan_time() -> None:
    reader = ScrapeReader([])
    with pytest.raises(UnsupportedIndicator, match="raw PromQL needs the prometheus backend"):
        reader.check(Slo("raw", PromQL("sum(up)"), Objective(">", 3)))


def test_a_percentile_outside_zero_to_hundred_is_refused() -> None:
    with pytest.raises(UnsupportedIndicator, match="percentile"):
        plan(Slo("fast", Latency("catalog", 0), FAST))


@pytest.mark.parametrize(("seconds", "text"), [(10, "10s"), (0.25, "250ms"), (61.5, "61500ms")])
def test_durations_are_written_in_seconds_or_milliseconds(seconds: float, text: str) -> None:
    assert duration(seconds) == text


label_values = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)


@given(label_values, label_values)
def test_equality_matchers_match_exactly_the_same_value(wanted: str, actual: str) -> None:
    selector = Selector.equal("m", {"l": wanted})
    assert selector.matches("m", {"l": actual}) == (wanted == actual)
    assert selector.matches("other", {"l": wanted}) is False


def test_regex_matchers_are_anchored_like_promql() -> None:
    matcher = Matcher("status", "!~", "5..|dropped")
    assert matcher.matches({"status": "200"})
    assert not matcher.matches({"status": "503"})
    assert matcher.matches({"status": "5030"})  # anchored: not a 5xx
    assert not matcher.matches({"status": "dropped"})


def test_a_cohort_limits_member_and_server_series_to_that_cohort() -> None:
    members = to_promql(
        Slo("ok", Latency("recommendations", 99, source="members", cohort="control"), FAST)
    )
    assert 'cohort="control"' in members
    server = to_promql(
        Slo("ok", Availability("playback", source="server", cohort="experiment"), AVAILABLE)
    )
    assert 'cohort="experiment"' in server


def test_a_cohort_at_the_edge_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedIndicator, match="cohort"):
        plan(Slo("ok", Availability("catalog", cohort="control"), AVAILABLE))
