"""What could pass without evidence is refused at load time, and everything else in
range loads: thresholds some reading can breach, abort conditions some readings
make true and others false, windows that hold two scrapes, faults and SLIs the
load reaches."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from chaos.experiment import ExperimentError, limits, load_experiment_text
from chaos.experiment.durations import format_duration
from chaos.load.metrics import LoadMetrics
from chaos.runner.lifecycle import RunOptions
from chaos.runtime.prometheus import write_prometheus_config
from services.common.metrics import Metrics

PROPERTY = settings(max_examples=60, deadline=None)
REPO = Path(__file__).parents[3]
CAP = limits.LATENCY_CAP_MS

BASE = """\
title: t
hypothesis: h
load: {rate: 10, mix: {homepage: 60, play: 40}, members: 100, experiment_percent: 50}
steady_state:
  slos:
    - {name: ok, availability: {service: recommendations}, objective: 99}
    - {name: fast, latency: {service: recommendations, percentile: 99}, below_ms: 500}
method:
  - {fault: latency, edge: recommendations -> catalog, delay_ms: 800, duration: 20s}
"""
AVAILABILITY = "    - {name: ok, availability: {service: recommendations}, objective: 99}\n"
LATENCY = "    - {name: fast, latency: {service: recommendations, percentile: 99}, below_ms: 500}\n"
STEP = "  - {fault: latency, edge: recommendations -> catalog, delay_ms: 800, duration: 20s}\n"
LOAD = "load: {rate: 10, mix: {homepage: 60, play: 40}, members: 100, experiment_percent: 50}\n"


def num(value: float) -> str:
    """`value` as YAML writes a float (YAML 1.1 reads `5e-324` as text, `5.0e-324` as a number)."""
    return str(yaml.safe_dump(value)).splitlines()[0]


def refused(text: str) -> list[str]:
    """The messages of the refusal of `text`, or [] when it loads."""
    try:
        load_experiment_text(text, "x.yaml")
    except ExperimentError as error:
        return [str(e) for e in error.errors]
    return []


def with_abort(condition: str) -> str:
    return BASE + f"abort_when:\n  - {condition}\n"


def test_the_base_experiment_loads() -> None:
    assert refused(BASE) == []


# ---------------------------------------------------------------- thresholds


@PROPERTY
@given(st.floats(0, 100, exclude_min=True))
def test_any_availability_objective_above_zero_loads(objective: float) -> None:
    assert refused(BASE.replace("objective: 99", f"objective: {num(objective)}")) == []


def test_an_availability_objective_of_zero_is_refused_as_never_breached() -> None:
    (message,) = refused(BASE.replace("objective: 99", "objective: 0"))
    assert "steady_state.slos[0].objective: can never be breached" in message


@PROPERTY
@given(st.floats(0, CAP, exclude_min=True))
def test_any_latency_bound_up_to_the_largest_bucket_loads(bound: float) -> None:
    assert refused(BASE.replace("below_ms: 500", f"below_ms: {num(bound)}")) == []


@PROPERTY
@given(st.floats(CAP, limits.THRESHOLD_MS[1], exclude_min=True))
def test_any_latency_bound_above_the_largest_bucket_is_refused(bound: float) -> None:
    (message,) = refused(BASE.replace("below_ms: 500", f"below_ms: {num(bound)}"))
    assert "steady_state.slos[1].below_ms: can never be breached" in message
    assert f"{CAP:g}ms, the largest finite bucket" in message


@PROPERTY
@given(st.floats(0, 100, exclude_max=True))
def test_any_availability_drop_below_baseline_under_100_loads(percent: float) -> None:
    text = BASE.replace("objective: 99", f"max_percent_below_baseline: {num(percent)}")
    assert refused(text) == []


def test_a_100_percent_drop_below_baseline_is_refused_as_a_limit_of_zero() -> None:
    (message,) = refused(BASE.replace("objective: 99", "max_percent_below_baseline: 100"))
    assert "= 0%, and no availability is below 0" in message


def test_a_promql_drop_of_100_percent_is_not_refused_its_values_may_be_negative() -> None:
    slo = "    - {name: lag, promql: 'deriv(x[1m])', max_percent_below_baseline: 100}\n"
    assert refused(BASE.replace(LATENCY, slo)) == []


# ---------------------------------------------------------------- abort conditions


@PROPERTY
@given(st.floats(0, 100, exclude_min=True), st.floats(0, 100, exclude_max=True))
def test_availability_aborts_inside_its_range_load(below: float, above: float) -> None:
    assert refused(with_abort(f"{{slo: ok, below: {num(below)}}}")) == []
    assert refused(with_abort(f"{{slo: ok, above: {num(above)}}}")) == []


@PROPERTY
@given(st.floats(-1e6, 0) | st.floats(100, 1e6, exclude_min=True))
def test_an_availability_abort_below_outside_0_to_100_is_refused(below: float) -> None:
    (message,) = refused(with_abort(f"{{slo: ok, below: {num(below)}}}"))
    assert "abort_when[0].below: " in message
    assert ("can never be true" in message) == (below <= 0)


@PROPERTY
@given(st.floats(-1e6, 0, exclude_max=True) | st.floats(100, 1e6))
def test_an_availability_abort_above_outside_0_to_100_is_refused(above: float) -> None:
    (message,) = refused(with_abort(f"{{slo: ok, above: {num(above)}}}"))
    assert "abort_when[0].above: " in message
    assert ("is true at every reading" in message) == (above < 0)


@PROPERTY
@given(st.floats(0, CAP, exclude_min=True), st.floats(0, CAP, exclude_max=True))
def test_latency_aborts_inside_zero_to_the_largest_bucket_load(below: float, above: float) -> None:
    assert refused(with_abort(f"{{slo: fast, below: {num(below)}}}")) == []
    assert refused(with_abort(f"{{slo: fast, above: {num(above)}}}")) == []


@PROPERTY
@given(st.floats(CAP, 1e9))
def test_a_latency_abort_above_the_largest_bucket_never_fires_and_is_refused(above: float) -> None:
    (message,) = refused(with_abort(f"{{slo: fast, above: {num(above)}}}"))
    assert "can never be true" in message and "largest finite bucket" in message


@PROPERTY
@given(st.floats(0, 100, exclude_min=True), st.floats(0, 100, exclude_max=True))
def test_a_two_sided_abort_is_refused_exactly_when_every_value_fires_it(
    below: float, above: float
) -> None:
    messages = refused(with_abort(f"{{slo: ok, below: {num(below)}, above: {num(above)}}}"))
    assert bool(messages) == (above < below)


def test_a_promql_abort_is_refused_only_when_it_fires_for_every_value() -> None:
    slo = "    - {name: lag, promql: 'x', below: 5}\n"
    text = BASE.replace(LATENCY, slo)
    assert refused(text + "abort_when:\n  - {slo: lag, below: -1000000000}\n") == []
    assert refused(text + "abort_when:\n  - {slo: lag, above: 1000000000}\n") == []
    (message,) = refused(text + "abort_when:\n  - {slo: lag, below: 3, above: 2}\n")
    assert "is true at every reading" in message


@PROPERTY
@given(st.floats(0, 20))
def test_an_abort_for_up_to_the_methods_length_loads(seconds: float) -> None:
    assert refused(with_abort(f"{{slo: ok, below: 90, for: {num(seconds)}}}")) == []


@PROPERTY
@given(st.floats(20, 600, exclude_min=True))
def test_an_abort_for_longer_than_the_method_is_refused(seconds: float) -> None:
    (message,) = refused(with_abort(f"{{slo: ok, below: 90, for: {num(seconds)}}}"))
    assert "abort_when[0].for: can never be met" in message


# ---------------------------------------------------------------- windows

SLOWEST = max(limits.SCRAPE_INTERVALS.values())
PROCESS = limits.SCRAPE_INTERVALS["process"]


@PROPERTY
@given(st.floats(limits.SCRAPES_PER_WINDOW * SLOWEST, 600))
def test_any_window_holding_two_scrapes_of_every_runtime_loads(window: float) -> None:
    assert refused(BASE.replace("objective: 99}", f"objective: 99, window: {num(window)}}}")) == []


@PROPERTY
@given(st.floats(1, limits.SCRAPES_PER_WINDOW * SLOWEST, exclude_max=True))
def test_a_window_shorter_than_two_scrapes_of_some_runtime_is_refused(window: float) -> None:
    (message,) = refused(BASE.replace("objective: 99}", f"objective: 99, window: {num(window)}}}"))
    assert "steady_state.slos[0].window: " in message
    assert f"give at least {format_duration(limits.SCRAPES_PER_WINDOW * SLOWEST)}" in message


def test_a_process_only_experiment_needs_two_scrapes_of_the_process_runtime_only() -> None:
    shortest = limits.SCRAPES_PER_WINDOW * PROCESS
    text = "runtimes: [process]\n" + BASE.replace(
        "objective: 99}", f"objective: 99, window: {num(shortest)}}}"
    )
    assert refused(text) == []
    assert refused(text.replace(f"window: {num(shortest)}", f"window: {num(shortest - 0.5)}"))


def test_a_promql_slo_is_not_held_to_a_window_it_does_not_use() -> None:
    slo = "    - {name: lag, promql: 'x', below: 5, window: 1s}\n"
    assert refused(BASE.replace(LATENCY, slo)) == []


# ---------------------------------------------------------------- faults


@PROPERTY
@given(st.floats(0, 100, exclude_min=True))
def test_an_application_fault_on_any_share_above_zero_loads(percent: float) -> None:
    assert (
        refused(BASE.replace("duration: 20s}", f"percent: {num(percent)}, duration: 20s}}")) == []
    )


@PROPERTY
@given(st.floats(1, 99), st.sampled_from(("experiment", "control")))
def test_a_cohort_fault_loads_when_both_cohorts_have_members(percent: float, cohort: str) -> None:
    # of m-0 .. m-999, the lowest cohort slot is 5 and the highest 9990
    text = BASE.replace("members: 100,", "members: 1000,")
    text = text.replace("experiment_percent: 50", f"experiment_percent: {num(percent)}")
    assert refused(text.replace("duration: 20s}", f"cohort: {cohort}, duration: 20s}}")) == []


@pytest.mark.parametrize(("percent", "empty"), [(0, "experiment"), (100, "control")])
def test_a_cohort_fault_on_a_cohort_without_members_is_refused(percent: int, empty: str) -> None:
    text = BASE.replace("experiment_percent: 50", f"experiment_percent: {percent}")
    (message,) = refused(text.replace("duration: 20s}", f"cohort: {empty}, duration: 20s}}"))
    assert f"is in the {empty} cohort (experiment_percent: {percent})" in message


def test_a_cohort_with_no_member_among_a_few_is_refused_though_its_share_is_above_zero() -> None:
    # m-0's cohort slot is 273 (of 10000): with one member at 50%, it is in experiment
    text = BASE.replace("members: 100,", "members: 1,")
    assert refused(text.replace("duration: 20s}", "cohort: experiment, duration: 20s}")) == []
    (message,) = refused(text.replace("duration: 20s}", "cohort: control, duration: 20s}"))
    assert "none of the load's 1 members is in the control cohort" in message


@pytest.mark.parametrize(
    ("step", "mix", "field"),
    [
        ("{fault: error, edge: playback -> catalog, duration: 5s}", "{homepage: 1}", "edge"),
        ("{fault: hang, target: playback, duration: 5s}", "{homepage: 1, title: 1}", "target"),
        (
            '{fault: drop, target: catalog, route: "/titles/{id}", duration: 5s}',
            "{homepage: 1, preferences: 1}",
            "route",
        ),
        (
            "{fault: error, target: recommendations, duration: 5s}",
            "{homepage: 0, play: 1}",
            "target",
        ),
    ],
)
def test_a_fault_no_journey_of_the_mix_calls_is_refused(step: str, mix: str, field: str) -> None:
    text = BASE.replace(STEP, f"  - {step}\n").replace("{homepage: 60, play: 40}", mix)
    text = text.replace(AVAILABILITY, "").replace(LATENCY, "    - {name: x, promql: y, below: 1}\n")
    (message,) = refused(text)
    assert f"method[0].{field}: no journey in the load's mix calls" in message


@pytest.mark.parametrize(
    ("step", "mix"),
    [
        ("{fault: error, edge: playback -> catalog, duration: 5s}", "{play: 1}"),
        ('{fault: drop, target: catalog, route: "/titles/{id}", duration: 5s}', "{play: 1}"),
        ('{fault: drop, target: catalog, route: "/popular", duration: 5s}', "{homepage: 1}"),
        ("{fault: drop, target: profiles, duration: 5s}", "{homepage: 1}"),
        ('{fault: drop, target: profiles-eu, route: "/profiles/{member}", duration: 5s}',
         "{preferences: 1}"),  # writes forwarded to a member's home replica
        ('{fault: hang, target: profiles-apac, route: "/replication/apply", duration: 5s}',
         "{title: 1}"),  # replication runs whatever the load
        ("{fault: error, edge: profiles-eu -> profiles, duration: 5s}", "{title: 1}"),
    ],
)  # fmt: skip
def test_a_fault_on_what_the_load_reaches_loads(step: str, mix: str) -> None:
    text = BASE.replace(STEP, f"  - {step}\n").replace("{homepage: 60, play: 40}", mix)
    text = text.replace(AVAILABILITY, "").replace(LATENCY, "    - {name: x, promql: y, below: 1}\n")
    assert refused(text) == []


def test_a_network_fault_on_an_edge_no_journey_calls_is_refused() -> None:
    step = "  - {fault: loss, edge: playback -> catalog, percent: 30, duration: 5s}\n"
    text = BASE.replace(STEP, step)
    assert refused(text) == []
    (message,) = refused(text.replace("{homepage: 60, play: 40}", "{homepage: 1}"))
    assert "method[0].edge: no journey in the load's mix calls playback -> catalog" in message


def test_a_sync_route_is_reached_only_when_the_history_workload_runs() -> None:
    step = (
        '  - {fault: error, target: profiles-eu, route: "/profiles/{member}/sync", duration: 5s}\n'
    )
    text = BASE.replace(STEP, step)
    (message,) = refused(text)
    assert "method[0].route: no journey in the load's mix calls" in message
    assert refused(text + "expect:\n  - {history: {}}\n") == []


def test_without_a_load_nothing_is_refused_for_want_of_traffic() -> None:
    text = BASE.replace(LOAD, "").replace("duration: 20s}", "cohort: control, duration: 20s}")
    assert refused(text) == []


# ---------------------------------------------------------------- SLIs the load reaches


@pytest.mark.parametrize(
    ("indicator", "loads"),
    [
        ("{service: playback, source: members}", True),
        ("{service: catalog, source: members}", False),  # title has weight 0
        ("{service: catalog}", True),  # edge: recommendations and playback call it
        ("{service: catalog, source: server, route: /popular}", True),
        ('{service: catalog, source: server, route: "/titles/{id}"}', True),
        ("{service: profiles, source: members}", False),
        ("{service: profiles-eu, source: server, route: /replication/apply}", True),
        ("{service: profiles-eu, source: server, route: /replication/state}", False),
    ],
)
def test_an_sli_the_load_sends_nothing_to_is_refused(indicator: str, loads: bool) -> None:
    text = BASE.replace("availability: {service: recommendations}", f"availability: {indicator}")
    messages = refused(text)
    assert (messages == []) == loads, messages
    if not loads:
        assert "this SLO would have no data" in messages[0]


def test_an_sli_of_a_cohort_without_members_is_refused() -> None:
    text = BASE.replace(
        "availability: {service: recommendations}",
        "availability: {service: recommendations, source: members, cohort: control}",
    )
    assert refused(text) == []
    (message,) = refused(text.replace("experiment_percent: 50", "experiment_percent: 100"))
    assert "none of the load's 100 members is in the control cohort" in message


# ---------------------------------------------------------------- where the facts come from


def _largest_finite_bucket_seconds(registry: CollectorRegistry, metric: str) -> set[float]:
    bounds: dict[tuple[tuple[str, str], ...], float] = {}
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == f"{metric}_bucket" and sample.labels["le"] != "+Inf":
                key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
                bounds[key] = max(bounds.get(key, 0.0), float(sample.labels["le"]))
    return set(bounds.values())


def test_the_latency_cap_is_the_largest_finite_bucket_of_every_histogram_a_latency_sli_reads() -> (
    None
):
    members = LoadMetrics(CollectorRegistry())
    service = Metrics("catalog", CollectorRegistry())
    service.http_duration.labels("catalog", "/titles", "GET", "200", "none").observe(0.1)
    service.dependency_duration.labels("catalog", "x").observe(0.1)
    for registry, metric in (
        (members.registry, "chaosbed_member_request_duration_seconds"),
        (service.registry, "chaosbed_http_request_duration_seconds"),
        (service.registry, "chaosbed_dependency_call_duration_seconds"),
    ):
        assert _largest_finite_bucket_seconds(registry, metric) == {CAP / 1000}, metric


def test_the_docker_scrape_interval_is_the_compose_prometheus_one() -> None:
    config = yaml.safe_load((REPO / "compose" / "prometheus" / "prometheus.yml").read_text())
    written = config["global"]["scrape_interval"]
    assert written == format_duration(limits.SCRAPE_INTERVALS["docker"])
    for job in config["scrape_configs"]:  # only Prometheus itself is scraped less often
        if job["job_name"] != "prometheus":
            assert "scrape_interval" not in job


def test_the_process_scrape_interval_is_the_one_its_prometheus_and_the_runner_use(
    tmp_path: Path,
) -> None:
    config = yaml.safe_load(write_prometheus_config(tmp_path, rule_files=()).read_text())
    assert config["global"]["scrape_interval"] == f"{round(PROCESS * 1000)}ms"
    # the runner's scrape backend scrapes at its check interval
    assert RunOptions().interval <= PROCESS
