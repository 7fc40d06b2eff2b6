"""steady_state.compare, control_percent and fault: none: what loads, what it
means, and every way a comparison could pass without evidence refused with the
field named."""

from __future__ import annotations

import pytest

from chaos.experiment import ExperimentError, load_experiment_text
from chaos.experiment.dump import dump_experiment
from chaos.experiment.model import AppFault, CompareMetric, NoFault
from chaos.experiment.read_compare import MIN_MEMBERS, cohort_members

LOAD = "load: {rate: 40, mix: {homepage: 60, play: 40}, members: 400, experiment_percent: 25}\n"
SLOS = """\
steady_state:
  slos:
    - {name: ok, availability: {service: recommendations, source: members}, objective: 95}
"""
COMPARE = """\
  compare:
    metrics:
      - {name: latency, metric: latency, journey: homepage, direction: increase,
         allowed_increase: 1.25}
      - {name: success, metric: success, journey: play, direction: decrease, critical: true}
      - {name: starts, metric: starts_per_second, direction: decrease, allowed_decrease: 0.8}
"""
SCOPED = (
    "method:\n  - {fault: latency, edge: recommendations -> profiles, delay_ms: 800, "
    "cohort: experiment, duration: 15s}\n"
)
NONE = "method:\n  - {fault: none, duration: 15s}\n"
KILL = "method:\n  - {fault: kill, target: catalog, duration: 5s}\n"
LONG = SCOPED.replace("duration: 15s", "duration: 40s")  # 10 promql reads at every 4s


def text(load: str = LOAD, compare: str = COMPARE, method: str = SCOPED) -> str:
    return f"title: t\nhypothesis: h\n{load}{SLOS}{compare}{method}"


def refused(source: str) -> dict[str, str]:
    with pytest.raises(ExperimentError) as caught:
        load_experiment_text(source)
    return {e.field: e.message for e in caught.value.errors}


def assert_refused(source: str, field: str, words: str) -> None:
    """Loading `source` fails with an error at `field` that says `words`."""
    errors = refused(source)
    assert field in errors, errors
    assert words in errors[field], errors[field]


def test_a_comparison_loads_with_its_defaults_and_an_equal_control_cohort() -> None:
    experiment = load_experiment_text(text())
    compare = experiment.steady_state.compare
    assert compare is not None
    assert (compare.pass_score, compare.marginal_score) == (95.0, 75.0)
    latency, success, starts = compare.metrics
    assert latency == CompareMetric("latency", "latency", "homepage", "increase", 1.25, 1.0)
    assert success.critical and success.must_have_data and success.confidence == 0.98
    assert starts.journey == "play"
    assert experiment.load is not None and experiment.load.control_percent == 25.0


def test_members_fall_in_two_cohorts_of_about_the_share_asked_and_the_rest_in_none() -> None:
    load = load_experiment_text(text()).load
    assert load is not None
    counts = cohort_members(load)
    assert sum(counts.values()) == 400
    for cohort in ("experiment", "control"):
        assert 70 <= counts[cohort] <= 130, counts  # 25% of 400, by a hash
    assert counts["none"] >= 150


def test_a_comparison_and_an_a_a_step_come_back_from_a_dump_unchanged() -> None:
    for method in (SCOPED, NONE):
        experiment = load_experiment_text(text(method=method))
        again = load_experiment_text(dump_experiment(experiment))
        assert again == experiment
    (step,) = load_experiment_text(text(method=NONE)).method
    assert step.fault == NoFault() and step.duration == 15


def test_an_explicit_control_percent_is_kept_and_without_a_comparison_the_rest_is_control() -> None:
    load = LOAD.replace("experiment_percent: 25", "experiment_percent: 25, control_percent: 50")
    spec = load_experiment_text(text(load=load)).load
    assert spec is not None and spec.control_percent == 50
    plain = load_experiment_text(
        text(compare="", method=SCOPED.replace("cohort: experiment", "cohort: control"))
    ).load
    assert plain is not None and plain.control_percent is None


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda t: t.replace(LOAD, ""), "steady_state.compare", "has no load"),
        (
            lambda t: t.replace("experiment_percent: 25", "experiment_percent: 60"),
            "load",
            "at most 50",
        ),
        (
            lambda t: t.replace("members: 400", "members: 20"),
            "load",
            f"at least {MIN_MEMBERS}",
        ),
        (
            lambda t: t.replace("mix: {homepage: 60, play: 40}", "mix: {homepage: 100}"),
            "steady_state.compare.metrics[1]",
            "sends no play",
        ),
        (
            lambda t: t.replace("cohort: experiment, ", ""),
            "method[0]",
            "confined to the experiment cohort",
        ),
        (
            lambda t: t.replace("cohort: experiment", "cohort: control"),
            "method[0]",
            "confined to the experiment cohort",
        ),
        (
            lambda t: t.replace(SCOPED, KILL),
            "method[0]",
            "confined to the experiment cohort",
        ),
        (
            lambda t: t.replace("direction: increase,", ""),
            "steady_state.compare.metrics[0].direction",
            "is required",
        ),
        (
            lambda t: t.replace("allowed_increase: 1.25", "allowed_increase: 0.5"),
            "steady_state.compare.metrics[0].allowed_increase",
            "from 1",
        ),
        (
            lambda t: t.replace("allowed_decrease: 0.8", "allowed_decrease: 1.5"),
            "steady_state.compare.metrics[2].allowed_decrease",
            "to 1",
        ),
        (
            lambda t: t.replace("critical: true", "critical: yes please"),
            "steady_state.compare.metrics[1].critical",
            "true or false",
        ),
        (
            lambda t: t.replace("metric: latency", "metric: latncy"),
            "steady_state.compare.metrics[0].metric",
            "did you mean 'latency'",
        ),
        (
            lambda t: t.replace("name: starts", "name: latency"),
            "steady_state.compare.metrics[2]",
            "already the name",
        ),
        (
            lambda t: t.replace("    metrics:\n", "    marginal: 99\n    metrics:\n"),
            "steady_state.compare.marginal",
            "above the pass score",
        ),
        (
            lambda t: t.replace(COMPARE, "  compare: {metrics: []}\n"),
            "steady_state.compare.metrics",
            "at least one metric",
        ),
        (
            lambda t: t.replace("percent: 25", "percent: 25, control_percent: 80"),
            "load.control_percent",
            "more than 100",
        ),
    ],
    ids=[
        "no-load", "no-room-for-an-equal-control", "too-few-members", "journey-not-in-mix",
        "fault-on-everyone", "fault-on-the-control", "process-fault", "no-direction",
        "allowed-increase-below-1", "allowed-decrease-above-1", "critical-not-a-flag",
        "unknown-metric", "duplicate-name", "marginal-above-pass", "no-metrics",
        "cohorts-over-100",
    ],
)  # fmt: skip
def test_a_comparison_that_could_pass_without_evidence_is_refused_naming_the_field(
    change: object, field: str, words: str
) -> None:
    assert callable(change)
    assert_refused(change(text()), field, words)


def test_a_step_with_no_fault_is_refused_outside_a_comparison() -> None:
    errors = refused(text(compare="", method=NONE))
    assert "only an experiment that compares cohorts" in errors["method[0]"]


def test_fault_none_takes_no_other_key() -> None:
    errors = refused(text(method="method:\n  - {fault: none, target: catalog, duration: 5s}\n"))
    assert "does not apply to a none fault" in errors["method[0].target"]


def test_the_scoped_fault_is_an_application_fault_for_the_experiment_cohort() -> None:
    (step,) = load_experiment_text(text()).method
    assert isinstance(step.fault, AppFault) and step.fault.cohort == "experiment"


PROMQL = """\
  compare:
    metrics:
      - name: errors
        metric: promql
        query: 'sum(rate(chaosbed_http_requests_total{cohort="$cohort",status=~"5.."}[4s]))'
        every: 4s
        direction: increase
"""


def test_a_promql_metric_loads_with_its_query_and_period_and_comes_back_from_a_dump() -> None:
    experiment = load_experiment_text(text(compare=PROMQL, method=LONG))
    assert experiment.steady_state.compare is not None
    (metric,) = experiment.steady_state.compare.metrics
    assert metric.metric == "promql" and metric.every == 4.0 and "$cohort" in metric.query
    assert metric.journey == ""
    assert load_experiment_text(dump_experiment(experiment)) == experiment


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda t: t.replace('cohort="$cohort",', ""), "metrics[0].query", "no $cohort"),
        (lambda t: t.replace("[4s]", "[10s]"), "metrics[0].query", "longer than the 4s"),
        (lambda t: t.replace("[4s]", "[1m:5s]"), "metrics[0].query", "[1m] range"),
        (lambda t: t.replace("        every: 4s\n", "").replace("[4s]", "[6s]"), "metrics[0].query",
         "longer than the 5s"),
        (lambda t: t.replace("every: 4s", "every: 0.5s"), "metrics[0].every", "from 1s"),
        (lambda t: t.replace("every: 4s", "journey: play"), "metrics[0].journey", "leave journey"),
        (lambda t: t.replace("        query: 'sum", "        qury: 'sum"), "metrics[0].query",
         "is required"),
    ],
    ids=["no-cohort", "range-longer-than-every", "subquery-range", "default-every",
         "every-too-short", "journey-given", "no-query"],
)  # fmt: skip
def test_a_promql_metric_that_could_count_one_request_twice_or_read_both_cohorts_is_refused(
    change: object, field: str, words: str
) -> None:
    assert callable(change)
    assert_refused(
        change(text(compare=PROMQL, method=LONG)), f"steady_state.compare.{field}", words
    )


def test_query_and_every_belong_to_a_promql_metric_only() -> None:
    errors = refused(text(compare=COMPARE.replace("allowed_increase: 1.25}", "every: 5s}")))
    assert "only a promql metric takes every" in errors["steady_state.compare.metrics[0].every"]


def homepage_only_with_a_fault_on_play(source: str) -> str:
    """Only homepage latency compared, and the fault on playback's calls to catalog."""
    kept = [line for line in source.splitlines(keepends=True)
            if "name: success" not in line and "name: starts" not in line]  # fmt: skip
    return "".join(kept).replace("recommendations -> profiles", "playback -> catalog")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda t: t.replace("direction: increase,", "direction: decrease,"),
         "steady_state.compare.metrics[0].direction", "latency that decreases is harmless"),
        (lambda t: t.replace("metric: success, journey: play, direction: decrease",
                             "metric: success, journey: play, direction: increase"),
         "steady_state.compare.metrics[1].direction", "success that increases is harmless"),
        (lambda t: t.replace("allowed_decrease: 0.8", "allowed_decrease: 0"),
         "steady_state.compare.metrics[2].allowed_decrease", "more than 0"),
        (lambda t: t.replace("critical: true", "critical: true, must_have_data: false"),
         "steady_state.compare.metrics[1].must_have_data", "a critical metric must have data"),
        (homepage_only_with_a_fault_on_play,
         "method[0]", "no compared journey (homepage) calls what the fault hits"),
    ],
    ids=["latency-decrease", "success-increase", "allowed-decrease-0", "critical-without-data",
         "fault-on-no-compared-journey"],
)  # fmt: skip
def test_a_comparison_that_could_never_see_the_damage_is_refused(
    change: object, field: str, words: str
) -> None:
    assert callable(change)
    assert_refused(change(text()), field, words)


def test_a_promql_metric_with_too_few_reads_to_ever_fail_is_refused() -> None:
    short = text(compare=PROMQL, method="method:\n  - {fault: none, duration: 15s}\n")
    critical = short.replace("        direction: increase\n", "        direction: increase\n"
                             "        critical: true\n")  # fmt: skip
    errors = refused(critical)  # 3 reads a cohort: p >= 0.08, judged at 0.007
    assert "could never fail" in errors["steady_state.compare.metrics[0]"]
    assert load_experiment_text(short.replace("duration: 15s", "duration: 40s"))


def test_a_cohort_mark_inside_a_promql_comment_does_not_count() -> None:
    commented = PROMQL.replace(
        'query: \'sum(rate(chaosbed_http_requests_total{cohort="$cohort",',
        "query: 'sum(rate(chaosbed_http_requests_total{",
    ).replace("[4s]))'", "[4s])) # $cohort'")
    errors = refused(text(compare=commented, method=LONG))
    assert "no $cohort" in errors["steady_state.compare.metrics[0].query"]
