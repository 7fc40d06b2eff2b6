"""increase() and histogram_quantile() against values worked out by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.slo.promql_functions import histogram_quantile, increase


def test_increase_of_a_steady_counter_sampled_at_the_window_edges_is_last_minus_first() -> None:
    samples = [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0), (4.0, 4.0)]
    assert increase(samples, 0.0, 4.0) == pytest.approx(4.0)


def test_a_counter_reset_adds_back_the_value_before_it() -> None:
    # +5, reset (a restart: 0 -> 3), +5: 13 in all
    samples = [(0.0, 10.0), (1.0, 15.0), (2.0, 3.0), (3.0, 8.0)]
    assert increase(samples, 0.0, 3.0) == pytest.approx(13.0)


def test_increase_extrapolates_to_edges_closer_than_one_sample_interval() -> None:
    # 10 per second seen from t=1 to t=3, extended by 1 s at each edge: 40
    assert increase([(1.0, 10.0), (2.0, 20.0), (3.0, 30.0)], 0.0, 4.0) == pytest.approx(40.0)


def test_increase_extrapolates_half_an_interval_towards_a_far_edge() -> None:
    # first sample 3 s after the window starts: extended by 0.5 s only -> 2 * 2.5 / 2
    assert increase([(3.0, 5.0), (4.0, 6.0), (5.0, 7.0)], 0.0, 5.0) == pytest.approx(2.5)


def test_increase_never_extrapolates_to_before_the_counter_was_zero() -> None:
    # from 1 to 3 in 1 s: it was zero 0.5 s before the first sample -> 3
    assert increase([(2.0, 1.0), (3.0, 3.0)], 0.0, 3.0) == pytest.approx(3.0)


def test_increase_needs_two_samples_inside_the_window() -> None:
    assert increase([(5.0, 1.0)], 0.0, 10.0) is None
    assert increase([(1.0, 1.0), (20.0, 5.0)], 10.0, 30.0) is None
    assert increase([], 0.0, 10.0) is None


def test_increase_of_a_counter_that_did_not_move_is_zero_not_none() -> None:
    assert increase([(0.0, 7.0), (1.0, 7.0), (2.0, 7.0)], 0.0, 2.0) == 0.0


@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=2, max_size=30),
    st.floats(0.1, 5.0),
    st.floats(0.0, 10.0),
    st.floats(0.0, 10.0),
)
def test_increase_is_never_negative(
    values: list[float], step: float, before: float, after: float
) -> None:
    samples = [(i * step, v) for i, v in enumerate(values)]
    result = increase(samples, -before, samples[-1][0] + after)
    assert result is not None and result >= 0


BUCKETS = [(0.1, 10.0), (0.2, 20.0), (0.5, 40.0), (math.inf, 40.0)]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.25, 0.1),  # rank 10: the top of the lowest bucket, which starts at 0
        (0.125, 0.05),  # rank 5: halfway into [0, 0.1]
        (0.5, 0.2),  # rank 20
        (0.75, 0.35),  # rank 30: halfway into (0.2, 0.5]
    ],
)
def test_histogram_quantile_interpolates_linearly_within_the_bucket(
    q: float, expected: float
) -> None:
    assert histogram_quantile(q, BUCKETS) == pytest.approx(expected)


def test_a_quantile_in_the_inf_bucket_is_the_highest_finite_bound() -> None:
    assert histogram_quantile(0.9, [(0.1, 10.0), (0.2, 20.0), (math.inf, 40.0)]) == 0.2


def test_histogram_quantile_makes_counts_monotone_first() -> None:
    # 8 after 10 is taken as 10: rank 6 falls in the lowest bucket
    assert histogram_quantile(0.5, [(0.1, 10.0), (0.2, 8.0), (math.inf, 12.0)]) == pytest.approx(
        0.06
    )


def test_histogram_quantile_sums_buckets_with_the_same_bound() -> None:
    merged = histogram_quantile(0.75, [(0.1, 5.0), (0.2, 10.0), (0.1, 5.0), (0.2, 10.0)] + [
        (0.5, 20.0), (0.5, 20.0), (math.inf, 20.0), (math.inf, 20.0)
    ])  # fmt: skip
    assert merged == pytest.approx(0.35)


def test_histogram_quantile_without_observations_or_inf_bucket_is_nan() -> None:
    assert math.isnan(histogram_quantile(0.99, [(0.1, 0.0), (math.inf, 0.0)]))
    assert math.isnan(histogram_quantile(0.99, [(0.1, 3.0), (0.2, 4.0)]))
    assert math.isnan(histogram_quantile(0.99, [(math.inf, 4.0)]))


def test_histogram_quantile_outside_zero_to_one_is_infinite() -> None:
    assert histogram_quantile(-0.1, BUCKETS) == -math.inf
    assert histogram_quantile(1.5, BUCKETS) == math.inf


bounds = st.lists(st.floats(0.001, 100.0), min_size=1, max_size=10, unique=True)


@given(bounds, st.data(), st.floats(0.001, 1.0), st.floats(0.001, 1.0))
def test_histogram_quantile_is_monotone_in_q(
    upper: list[float], data: st.DataObject, q1: float, q2: float
) -> None:
    counts = data.draw(
        st.lists(st.floats(0, 1e4), min_size=len(upper) + 1, max_size=len(upper) + 1)
    )
    cumulative = [sum(counts[: i + 1]) for i in range(len(counts))]
    buckets = list(zip([*sorted(upper), math.inf], cumulative, strict=True))
    low, high = sorted((q1, q2))
    a, b = histogram_quantile(low, buckets), histogram_quantile(high, buckets)
    if cumulative[-1] == 0:
        assert math.isnan(a) and math.isnan(b)
    else:
        assert a <= b
