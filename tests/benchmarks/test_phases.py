"""Spreading the benchmark's runs over the scrape and check cycles."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.phases import phase_plan, wait_for_phase


def test_three_runs_take_the_middle_of_each_third_on_both_axes():
    plan = phase_plan(3, 1.0)

    assert sorted(p.offset for p in plan) == [0.167, 0.5, 0.833]
    assert sorted(p.start for p in plan) == [0.167, 0.5, 0.833]


@given(st.integers(min_value=2, max_value=12), st.sampled_from([0.5, 1.0, 2.0]))
def test_every_run_has_its_own_start_and_offset_inside_one_interval(count, interval):
    plan = phase_plan(count, interval)

    assert len({p.start for p in plan}) == len({p.offset for p in plan}) == count
    assert all(0 < p.start < interval and 0 < p.offset < interval for p in plan)
    assert all(p.start != p.offset for p in plan)


def test_no_runs_is_refused_naming_the_count():
    with pytest.raises(ValueError, match="count"):
        phase_plan(0, 1.0)


def test_a_non_positive_interval_is_refused_naming_it():
    with pytest.raises(ValueError, match="interval"):
        phase_plan(3, 0.0)


async def test_waiting_for_a_phase_ends_at_that_phase_of_the_wall_clock():
    target = (time.time() + 0.15) % 0.5

    await wait_for_phase(target, 0.5)

    late = (time.time() - target) % 0.5  # how far past the phase, across the interval's end
    assert late < 0.05
