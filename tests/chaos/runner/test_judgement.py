"""The judgement's pure functions: evidence, the tail, recovery, baselines."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from chaos.experiment.model import Availability, Latency, Objective, PromQL, Slo
from chaos.runner.judgement import (
    baseline_problem,
    evidence,
    recovery_start,
    stable_stretch,
    tail_seconds,
)
from chaos.runner.monitor import Check, Reading

AVAIL = Slo("avail", Availability("catalog"), Objective(">=", 99.0), window=10.0)
FAST = Slo("fast", Latency("catalog", 99), Objective("<", 300.0), window=5.0)
REL_AVAIL = Slo("rel", Availability("catalog"), Objective(">=", relative_percent=5.0))
REL_FAST = Slo("rel-fast", Latency("catalog", 99), Objective("<", relative_percent=50.0))


def reading(slo: Slo, value: float | None) -> Reading:
    ok = None if value is None else slo.objective.holds(value)
    return Reading(slo, value, slo.objective.threshold, ok)


def checks(slo: Slo, *values: float | None, every: float = 1.0) -> list[Check]:
    return [Check(i * every, {slo.name: reading(slo, v)}) for i, v in enumerate(values)]


# ------------------------------------------------------------ evidence


def test_every_reading_met_holds() -> None:
    assert evidence(AVAIL, checks(AVAIL, 100, 99.5, 99)).held


def test_no_reading_at_all_does_not_hold() -> None:
    assert not evidence(AVAIL, []).held


def test_no_reading_at_all_says_so() -> None:
    assert evidence(AVAIL, []).reasons() == [
        "SLO avail: no data: not one reading during the method"
    ]


def test_one_reading_without_data_does_not_hold() -> None:
    assert not evidence(AVAIL, checks(AVAIL, 100, None, 100)).held


def test_a_lone_missed_read_among_ten_or_more_holds() -> None:
    assert evidence(AVAIL, checks(AVAIL, *[100] * 5, None, *[100] * 4)).held


def test_two_missed_reads_in_a_row_do_not_hold_however_many_readings() -> None:
    assert not evidence(AVAIL, checks(AVAIL, *[100] * 20, None, None, *[100] * 20)).held


def test_lone_missed_reads_over_a_tenth_of_the_readings_do_not_hold() -> None:
    assert not evidence(AVAIL, checks(AVAIL, *[100, None] * 3, *[100] * 13)).held


def test_a_check_that_did_not_read_the_slo_counts_as_no_data() -> None:
    assert evidence(AVAIL, [Check(0.0, {})]).no_data == 1


def test_no_data_counts_and_spans_are_kept() -> None:
    found = evidence(AVAIL, checks(AVAIL, 100, None, None, 100, None))
    assert (found.no_data, found.first_no_data_t, found.last_no_data_t) == (3, 1.0, 4.0)


def test_no_data_reason_names_the_slo_the_count_and_the_span() -> None:
    (reason,) = evidence(AVAIL, checks(AVAIL, None, None, 100)).reasons()
    assert reason == (
        "SLO avail: no data at 2 of 3 readings during the method, +0s..+1s (no data is never held)"
    )


def test_the_worst_availability_is_the_lowest() -> None:
    assert evidence(AVAIL, checks(AVAIL, 98, 90, 95)).worst == 90


def test_the_worst_latency_is_the_highest() -> None:
    assert evidence(FAST, checks(FAST, 400, 900, 500)).worst == 900


def test_breaches_are_counted_with_their_first_and_last_times() -> None:
    found = evidence(AVAIL, checks(AVAIL, 100, 90, 100, 95))
    assert (found.breached, found.first_breach_t, found.last_breach_t) == (2, 1.0, 3.0)


def test_a_breach_reason_keeps_the_worst_value_first() -> None:
    (reason,) = evidence(AVAIL, checks(AVAIL, 100, 90)).reasons()
    assert reason.startswith("SLO avail did not hold during the method (worst 90; breached at 1")


@given(st.lists(st.one_of(st.none(), st.floats(0, 100)), max_size=30))
def test_an_slo_holds_only_when_every_reading_was_met(values: list[float | None]) -> None:
    found = evidence(AVAIL, checks(AVAIL, *values))
    missed = [i for i, v in enumerate(values) if v is None]
    lone = all(i + 1 not in missed for i in missed) and len(missed) <= 0.1 * len(values)
    expected = bool(values) and lone and all(v is None or v >= 99.0 for v in values)
    assert found.held is expected
    assert found.readings == len(values)
    assert found.held is (found.reasons() == [])


# ------------------------------------------------------------ the tail


def test_the_tail_is_the_longest_slo_window() -> None:
    assert tail_seconds([AVAIL, FAST], request_timeout=2.0, scrape_interval=1.0) == 10.0


def test_the_tail_is_at_least_the_request_timeout() -> None:
    assert tail_seconds([FAST], request_timeout=8.0, scrape_interval=1.0) == 8.0


def test_the_tail_is_at_least_two_scrape_intervals() -> None:
    assert tail_seconds([FAST], request_timeout=None, scrape_interval=4.0) == 8.0


# ------------------------------------------------------------ recovery


def test_a_stable_stretch_is_the_longest_window() -> None:
    assert stable_stretch([AVAIL, FAST], interval=1.0) == 10.0


def test_a_stable_stretch_spans_at_least_three_checks() -> None:
    assert stable_stretch([Slo("x", PromQL("up"), Objective("<", 1), window=0.1)], 1.0) == 2.0


def test_recovery_starts_at_the_first_check_of_a_stable_stretch() -> None:
    assert recovery_start(checks(AVAIL, 90, 100, 90, 100, 100, 100), 0.0, 2.0) == 3.0


def test_one_good_reading_is_not_recovery() -> None:
    assert recovery_start(checks(AVAIL, 90, 100, 90, 100, 90), 0.0, 0.0) is None


def test_recovery_needs_three_checks_even_for_a_short_stretch() -> None:
    assert recovery_start(checks(AVAIL, 100, 100), 0.0, 0.0) is None


def test_no_data_breaks_a_stable_stretch() -> None:
    assert recovery_start(checks(AVAIL, 100, None, 100, 100, 100), 0.0, 2.0) == 2.0


def test_checks_before_the_rollback_began_do_not_count() -> None:
    assert recovery_start(checks(AVAIL, 100, 100, 100, 100, 100, 100), 2.0, 2.0) == 2.0


def test_every_slo_must_be_met_for_recovery() -> None:
    both = [
        Check(float(t), {"avail": reading(AVAIL, 100), "fast": reading(FAST, 900 if t < 2 else 1)})
        for t in range(6)
    ]
    assert recovery_start(both, 0.0, 2.0) == 2.0


# ------------------------------------------------------------ baselines


def test_an_availability_baseline_below_the_floor_is_refused() -> None:
    assert baseline_problem(REL_AVAIL, 0.0) == (
        "SLO rel: steady-state baseline 0% is below 90%: not a healthy steady state"
    )


def test_a_healthy_availability_baseline_is_accepted() -> None:
    assert baseline_problem(REL_AVAIL, 99.5) is None


def test_an_availability_limit_no_reading_can_breach_is_refused() -> None:
    everything = Slo("all", Availability("catalog"), Objective(">=", relative_percent=100.0))
    assert "no reading can breach it" in str(baseline_problem(everything, 99.0))


def test_a_latency_baseline_of_zero_is_refused() -> None:
    assert baseline_problem(REL_FAST, 0.0) == (
        "SLO rel-fast: steady-state baseline 0 ms gives a limit no reading can breach"
    )


def test_a_baseline_that_is_not_a_number_is_refused() -> None:
    assert "not a number" in str(baseline_problem(REL_FAST, math.inf))


def test_an_absolute_objective_is_not_judged_by_its_baseline() -> None:
    assert baseline_problem(AVAIL, 0.0) is None
