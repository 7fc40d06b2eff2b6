"""Loading experiment files: the format's shape, its defaults, and its errors."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from chaos.experiment import ExperimentError, FieldError, load_experiment, load_experiment_text
from chaos.experiment.model import (
    AbortCondition,
    AppFault,
    Availability,
    BreakerClosed,
    BreakerOpened,
    BulkheadRefused,
    Edge,
    FallbackServed,
    HistoryHolds,
    Latency,
    NetworkFault,
    Objective,
    ProcessFault,
    PromQL,
    RecoveredWithin,
    RetriesWithinBudget,
)

HERE = Path(__file__).parent
SKETCH = HERE / "valid" / "outage-falls-back.yaml"

MINIMAL = """\
title: t
hypothesis: h
steady_state:
  slos:
    - {name: ok, availability: {service: playback}, objective: 99}
method:
  - {fault: kill, target: catalog, duration: 5s}
"""


def with_method(*steps: str) -> str:
    return MINIMAL.replace(
        "  - {fault: kill, target: catalog, duration: 5s}\n",
        "".join(f"  - {step}\n" for step in steps),
    )


def errors_of(text: str) -> list[FieldError]:
    with pytest.raises(ExperimentError) as caught:
        load_experiment_text(text, "x.yaml")
    return caught.value.errors


def fields_of(text: str) -> list[str]:
    return [error.field for error in errors_of(text)]


# ---------------------------------------------------------------- the shape


def test_the_reference_sketch_loads_as_written() -> None:
    experiment = load_experiment(SKETCH)
    assert experiment.title == "Recommendations outage falls back to popular titles"
    assert experiment.source == str(SKETCH)
    assert experiment.load is not None and experiment.load.rate == 50
    assert experiment.load.mix == {"homepage": 60, "play": 25, "title": 10, "preferences": 5}
    play_ok, homepage_fast = experiment.steady_state.slos
    assert play_ok.indicator == Availability("playback")
    assert play_ok.objective == Objective(">=", threshold=99.5)
    assert homepage_fast.indicator == Latency("recommendations", 99)
    assert homepage_fast.objective == Objective("<", threshold=300)
    assert experiment.steady_state.warmup == 10
    kinds = [step.fault.kind for step in experiment.method]
    assert kinds == ["kill", "latency", "partition", "partition", "loss", "bandwidth"]
    assert experiment.method[2].fault == NetworkFault(
        "partition", between=(("playback",), ("profiles",))
    )
    assert experiment.method[3].fault == NetworkFault(
        "partition", from_=("recommendations",), to=("catalog",)
    )
    assert experiment.method[5].fault == NetworkFault(
        "bandwidth", target="recommendations", rate_kbit=256
    )
    assert experiment.abort_when == (AbortCondition("play-ok", below=90, for_=5),)
    assert experiment.expect == (
        BreakerOpened(Edge("recommendations", "profiles")),
        RecoveredWithin(15),
    )


def test_steps_without_offset_run_in_sequence() -> None:
    experiment = load_experiment(SKETCH)
    windows = [(step.offset, step.offset + step.duration) for step in experiment.method]
    assert windows == [(0, 20), (20, 50), (50, 70), (70, 90), (90, 110), (110, 130)]
    assert experiment.method_duration == 130


def test_steps_with_offset_may_overlap_and_the_next_follows_the_last() -> None:
    experiment = load_experiment_text(
        with_method(
            "{fault: kill, target: catalog, duration: 30s}",
            "{fault: drop, target: profiles, offset: 10s, duration: 5s}",
            "{fault: hang, target: playback, duration: 1m}",
        )
    )
    assert [(s.offset, s.duration) for s in experiment.method] == [(0, 30), (10, 5), (15, 60)]


def test_unnamed_steps_are_named_for_their_position_and_fault() -> None:
    experiment = load_experiment_text(
        with_method(
            "{fault: kill, target: catalog, duration: 5s}",
            "{fault: drop, name: cut-profiles, target: profiles, duration: 5s}",
        )
    )
    assert [step.name for step in experiment.method] == ["1-kill", "cut-profiles"]


def test_defaults_fill_what_is_not_written() -> None:
    experiment = load_experiment_text(MINIMAL)
    assert experiment.load is None
    assert experiment.steady_state.warmup == 10 and experiment.steady_state.hold == 5
    assert experiment.steady_state.slos[0].window == 10
    assert experiment.predicts == "held" and experiment.runtimes == () and experiment.tags == ()
    assert experiment.abort_when == () and experiment.expect == ()


def test_load_keys_and_the_default_mix() -> None:
    text = (
        MINIMAL + "load: {rate: 5, experiment_percent: 20, members: 50, timeout: 500ms, seed: 7}\n"
    )
    load = load_experiment_text(text).load
    assert load is not None
    assert (load.rate, load.experiment_percent, load.members, load.timeout, load.seed) == (
        5, 20, 50, 0.5, 7,
    )  # fmt: skip
    assert load.mix == {"homepage": 60, "play": 25, "title": 10, "preferences": 5}


def test_app_faults_on_a_route_with_cohort_and_status() -> None:
    experiment = load_experiment_text(
        with_method(
            "{fault: error, target: catalog, route: '/titles/{id}', method: get, status: 500,"
            " percent: 25, cohort: experiment, duration: 10s}",
            "{fault: latency, edge: playback->catalog, delay_ms: 200, jitter_ms: 50,"
            " duration: 10s}",
        )
    )
    assert experiment.method[0].fault == AppFault(
        "error", target="catalog", route="/titles/{id}", method="GET", status=500,
        percent=25, cohort="experiment",
    )  # fmt: skip
    assert experiment.method[1].fault == AppFault(
        "latency", edge=Edge("playback", "catalog"), delay_ms=200, jitter_ms=50
    )


def test_process_faults_take_a_count_or_a_share_of_instances() -> None:
    experiment = load_experiment_text(
        with_method(
            "{fault: pause, target: profiles, instances: 1, duration: 10s}",
            "{fault: down, target: catalog, instances_percent: 50, duration: 10s}",
        )
    )
    assert experiment.method[0].fault == ProcessFault("pause", "profiles", instances=1)
    assert experiment.method[1].fault == ProcessFault("down", "catalog", instances_percent=50)


def test_network_faults_isolate_netem_latency_and_standin() -> None:
    experiment = load_experiment_text(
        with_method(
            "{fault: isolate, target: profiles, standin: allowed, duration: 10s}",
            "{fault: netem_latency, edge: playback -> profiles, delay_ms: 100, duration: 10s}",
            "{fault: partition, from: recommendations, to: [catalog, profiles], duration: 10s}",
        )
    )
    assert experiment.method[0].fault == NetworkFault(
        "isolate", target="profiles", standin_allowed=True
    )
    assert experiment.method[1].fault == NetworkFault(
        "netem_latency", edge=Edge("playback", "profiles"), delay_ms=100
    )
    assert experiment.method[2].fault == NetworkFault(
        "partition", from_=("recommendations",), to=("catalog", "profiles")
    )


def test_slo_kinds_routes_sources_windows_and_relative_thresholds() -> None:
    text = MINIMAL.replace(
        "    - {name: ok, availability: {service: playback}, objective: 99}\n",
        "    - {name: ok, availability: {service: catalog, route: /popular, source: server},"
        " objective: 99, window: 30s}\n"
        "    - {name: fast, latency: {service: playback, percentile: 99.9, source: members},"
        " max_percent_above_baseline: 50}\n"
        "    - {name: starts, promql: 'sum(rate(chaosbed_playback_starts_total[1m]))',"
        " max_percent_below_baseline: 20}\n"
        "    - {name: errors, promql: 'sum(rate(x[1m]))', below: 0.5}\n",
    )
    ok, fast, starts, errors = load_experiment_text(text).steady_state.slos
    assert ok.indicator == Availability("catalog", "/popular", "server") and ok.window == 30
    assert fast.indicator == Latency("playback", 99.9, None, "members")
    assert fast.objective == Objective("<=", relative_percent=50)
    assert starts.indicator == PromQL("sum(rate(chaosbed_playback_starts_total[1m]))")
    assert starts.objective == Objective(">=", relative_percent=20)
    assert errors.objective == Objective("<", threshold=0.5)


def test_expectations_in_their_short_and_long_forms() -> None:
    text = MINIMAL + dedent("""\
        expect:
          - {breaker_closed: playback -> catalog}
          - {bulkhead_refused: recommendations -> catalog}
          - {fallback_served: recommendations}
          - {fallback_served: {service: playback, fallback: cached_title}}
          - {retries_within_budget: playback}
          - {retries_within_budget: {service: recommendations, ratio: 0.2}}
          - {recovered_within: 1m}
        """)
    assert load_experiment_text(text).expect == (
        BreakerClosed(Edge("playback", "catalog")),
        BulkheadRefused(Edge("recommendations", "catalog")),
        FallbackServed("recommendations"),
        FallbackServed("playback", "cached_title"),
        RetriesWithinBudget("playback"),
        RetriesWithinBudget("recommendations", 0.2),
        RecoveredWithin(60),
    )


def test_bulkhead_refused_names_an_edge_of_the_topology() -> None:
    errors = errors_of(MINIMAL + "expect:\n  - {bulkhead_refused: catalog -> playback}\n")
    assert [e.field for e in errors] == ["expect[0].bulkhead_refused"]


def test_a_history_expectation_with_its_defaults_and_its_limits() -> None:
    text = MINIMAL + dedent("""\
        expect:
          - {history: {lost: 0, partial: 0, converged_within: 5s}}
          - {history: {lost: 2, converged_within: 1m}}
          - {history: {}}
        """)
    assert load_experiment_text(text).expect == (
        HistoryHolds(0, 0, 5.0),
        HistoryHolds(2, 0, 60.0),
        HistoryHolds(),
    )


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("{history: {lost: -1}}", "expect[0].history.lost"),
        ("{history: {partial: one}}", "expect[0].history.partial"),
        ("{history: {converged_within: forever}}", "expect[0].history.converged_within"),
        ("{history: {converged_within: 0s}}", "expect[0].history.converged_within"),
        ("{history: {lots: 0}}", "expect[0].history.lots"),
        ("{history: 5s}", "expect[0].history"),
    ],
)
def test_a_bad_history_expectation_names_its_field(written: str, field: str) -> None:
    assert fields_of(MINIMAL + f"expect:\n  - {written}\n") == [field]


def test_a_replica_calls_its_peers_but_serves_no_fallback() -> None:
    text = MINIMAL + "expect:\n  - {retries_within_budget: profiles-eu}\n"
    assert load_experiment_text(text).expect == (RetriesWithinBudget("profiles-eu"),)
    errors = errors_of(MINIMAL + "expect:\n  - {fallback_served: profiles-eu}\n")
    assert [e.field for e in errors] == ["expect[0].fallback_served"]
    assert "serves no fallback" in errors[0].message


def test_top_level_predicts_runtimes_and_tags() -> None:
    text = MINIMAL + "predicts: deviated\nruntimes: [docker]\ntags: [network, slow]\n"
    experiment = load_experiment_text(text)
    assert experiment.predicts == "deviated"
    assert experiment.runtimes == ("docker",) and experiment.tags == ("network", "slow")


def test_anchors_and_merge_keys_may_share_settings_between_steps() -> None:
    text = MINIMAL.replace("method:\n  - {fault: kill, target: catalog, duration: 5s}\n", "") + (
        "method:\n"
        "  - &slow {fault: latency, edge: playback -> catalog, delay_ms: 300, duration: 5s}\n"
        "  - {<<: *slow, delay_ms: 900}\n"
    )
    first, second = load_experiment_text(text).method
    assert isinstance(second.fault, AppFault) and second.fault.delay_ms == 900
    assert second.fault.edge == first.fault.edge == Edge("playback", "catalog")  # type: ignore[union-attr]


# ---------------------------------------------------------------- errors


def test_every_error_is_reported_at_once_with_file_line_and_field() -> None:
    text = MINIMAL.replace("objective: 99", "objective: 101").replace(
        "duration: 5s", "duration: 0s"
    )
    with pytest.raises(ExperimentError) as caught:
        load_experiment_text(text + "colour: red\n", "exp.yaml")
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("exp.yaml:5: steady_state.slos[0].objective: expected a number")
    assert lines[1].startswith("exp.yaml:7: method[0].duration: expected a duration from 1s to 1h")
    assert lines[2].startswith("exp.yaml:8: colour: unknown key")
    assert caught.value.exit_code == 2


def test_unknown_keys_suggest_the_nearest_known_key() -> None:
    (error,) = errors_of(with_method("{fault: kill, target: catalog, duraton: 5s, duration: 5s}"))
    assert error.field == "method[0].duraton" and "did you mean 'duration'?" in error.message


def test_a_key_of_another_fault_kind_says_which_keys_this_kind_takes() -> None:
    (error,) = errors_of(with_method("{fault: drop, target: catalog, delay_ms: 5, duration: 5s}"))
    assert error.field == "method[0].delay_ms"
    assert "does not apply to a drop fault" in error.message


def test_a_key_given_twice_is_an_error_naming_the_first_line() -> None:
    text = MINIMAL + "predicts: held\npredicts: deviated\n"
    (error,) = errors_of(text)
    assert (error.line, error.field) == (9, "predicts") and "first on line 8" in error.message


def test_aborts_must_name_an_slo_of_the_steady_state() -> None:
    (error,) = errors_of(MINIMAL + "abort_when:\n  - {slo: okay, below: 50}\n")
    assert (error.line, error.field) == (9, "abort_when[0].slo")
    assert "did you mean 'ok'?" in error.message


def test_aborts_are_checked_even_when_another_slo_is_invalid() -> None:
    text = MINIMAL.replace("objective: 99", "objective: -1")
    fields = fields_of(text + "abort_when:\n  - {slo: nope, above: 5}\n")
    assert fields == ["steady_state.slos[0].objective", "abort_when[0].slo"]


def test_step_and_slo_names_must_be_unique() -> None:
    text = with_method(
        "{fault: kill, name: a, target: catalog, duration: 5s}",
        "{fault: kill, name: a, target: catalog, duration: 5s}",
    ).replace("objective: 99}\n", "objective: 99}\n    - {name: ok, promql: up, below: 1}\n")
    assert fields_of(text) == ["steady_state.slos[1].name", "method[1].name"]


def test_the_method_ends_within_an_hour() -> None:
    (error,) = errors_of(
        with_method(
            "{fault: kill, target: catalog, duration: 40m}",
            "{fault: kill, target: catalog, duration: 30m}",
        )
    )
    assert error.field == "method[1].duration" and "1h10m" in error.message


def test_yaml_syntax_errors_name_the_line() -> None:
    (error,) = errors_of("title: t\nhypothesis: [unclosed\nmethod: []\n")
    assert error.field == "<document>" and error.line == 3 and "not valid YAML" in error.message


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a list\n", "just text\n"])
def test_a_document_that_is_not_a_mapping_is_refused(text: str) -> None:
    (error,) = errors_of(text)
    assert error.field == "<document>"


def test_a_missing_file_is_an_experiment_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError) as caught:
        load_experiment(tmp_path / "nope.yaml")
    assert str(caught.value).startswith(f"{tmp_path / 'nope.yaml'}:1: <document>: cannot read")


def test_a_file_that_is_not_utf8_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"title: t\nhypothesis: caf\xe9\n")
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    assert caught.value.errors == [FieldError(2, "<document>", "not UTF-8 text")]


def test_aliases_that_explode_are_refused_not_expanded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    (error,) = errors_of("\n".join(lines) + "\n")
    assert error.field == "<document>" and "more than" in error.message


def test_an_experiment_error_needs_at_least_one_problem() -> None:
    with pytest.raises(ValueError):
        ExperimentError("x.yaml", [])


@pytest.mark.parametrize("text", ["[" * 100_000, "{a: " * 50_000, "- " * 100_000])
def test_deeply_nested_input_is_refused_without_crashing(text: str) -> None:
    (error,) = errors_of(text)
    assert error.field == "<document>" and "nested" in error.message


def test_a_character_yaml_forbids_is_reported_at_its_line() -> None:
    (error,) = errors_of("title: t\nhypothesis: \ud800\n")
    assert (error.line, error.field) == (2, "<document>") and "U+D800" in error.message


def test_an_sli_may_be_limited_to_one_cohort_of_members() -> None:
    experiment = load_experiment_text(
        SKETCH.read_text()
        .replace(
            "availability: {service: playback}",
            "availability: {service: playback, source: members, cohort: control}",
        )
        .replace("preferences: 5}}", "preferences: 5}, experiment_percent: 50}")
    )
    indicator = experiment.steady_state.slos[0].indicator
    assert indicator == Availability("playback", None, "members", "control")


def test_an_endless_file_is_refused_after_reading_at_most_the_size_limit() -> None:
    """`/dev/zero` (or a pipe that never ends) must not be read into memory whole:
    in a child capped at 400 MB of address space, the refusal comes quickly."""
    import subprocess
    import sys

    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (400_000_000, 400_000_000))\n"
        "from chaos.experiment import ExperimentError, load_experiment\n"
        "try:\n"
        "    load_experiment('/dev/zero')\n"
        "except ExperimentError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert "larger than" in done.stdout


def test_an_app_fault_longer_than_its_rule_can_live_is_refused_naming_the_duration() -> None:
    """The services cap a rule's TTL at an hour; the runner gives it the step's
    duration + 5 s: a 3600 s step's rule would expire 5 s before the step ends."""
    text = (
        "title: long\nhypothesis: h\nsteady_state:\n  slos:\n"
        "    - {name: ok, availability: {service: catalog}, objective: 99}\n"
        "method:\n  - {fault: error, target: catalog, duration: %s}\n"
    )
    with pytest.raises(ExperimentError) as caught:
        load_experiment_text(text % "3596s")
    assert "method[0].duration" in str(caught.value) and "expire" in str(caught.value)
    assert load_experiment_text(text % "3595s").method[0].duration == 3595.0
