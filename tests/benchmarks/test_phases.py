"""Spreading the benchmark's runs over the scrape and check cycles."""

from __future__ import annotations

import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from benchmarks.phases import phase_plan, wait_for_phase


def test_three_runs_check_and_break_in_the_middle_of_each_third() -> None:
    plan = phase_plan(3, 1.0)

    assert [p.start for p in plan] == [0.167, 0.5, 0.833]
    breaches = [(p.start + p.offset) % 1.0 for p in plan]
    assert breaches == pytest.approx([0.833, 0.5, 0.167], abs=0.002)


@given(st.integers(min_value=1, max_value=12), st.sampled_from([0.5, 1.0, 2.0]))
def test_starts_and_breaches_each_take_every_share_of_the_interval_once(
    count: int, interval: float
) -> None:
    plan = phase_plan(count, interval)
    share = interval / count

    starts = sorted(int(p.start // share) for p in plan)
    breaches = sorted(int(((p.start + p.offset) % interval) // share) for p in plan)

    assert starts == breaches == list(range(count))
    assert all(0 <= p.offset < interval for p in plan)


@given(st.integers(min_value=1, max_value=9), st.floats(min_value=0.0, max_value=0.999))
def test_whatever_the_scrape_phase_the_waits_average_one_interval(
    count: int, scrape: float
) -> None:
    plan = phase_plan(count, 1.0)
    breaches = [(p.start + p.offset) % 1.0 for p in plan]
    assume(all(abs(b - scrape) > 1e-3 for b in breaches))
    assume(all(abs(p.start - scrape) > 1e-3 for p in plan))

    waits = [
        (scrape - breach) % 1.0 + (p.start - scrape) % 1.0
        for p, breach in zip(plan, breaches, strict=True)
    ]

    assert sum(waits) / count == pytest.approx(1.0, abs=0.01)


def test_no_runs_is_refused_naming_the_count() -> None:
    with pytest.raises(ValueError, match="count"):
        phase_plan(0, 1.0)


def test_a_non_positive_interval_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="interval"):
        phase_plan(3, 0.0)


async def test_waiting_for_a_phase_ends_at_that_phase_of_the_wall_clock() -> None:
    target = (time.time() + 0.15) % 0.5

    await wait_for_phase(target, 0.5)

    late = (time.time() - target) % 0.5  # how far past the phase, across the interval's end
    assert late < 0.05
