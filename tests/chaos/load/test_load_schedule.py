"""The open-loop schedule: Poisson arrivals from a seeded random source."""

from __future__ import annotations

import itertools
import random
import statistics

import pytest

from chaos.load import poisson_arrivals


def gaps(rate: float, seed: int, count: int) -> list[float]:
    times = list(itertools.islice(poisson_arrivals(rate, random.Random(seed)), count))
    return [b - a for a, b in itertools.pairwise([0.0, *times])]


@pytest.mark.parametrize("rate", [1.0, 50.0, 200.0, 1000.0])
def test_mean_gap_between_arrivals_is_one_over_the_rate(rate: float) -> None:
    mean = statistics.fmean(gaps(rate, seed=7, count=20_000))
    assert mean == pytest.approx(1 / rate, rel=0.03)


def test_gaps_are_exponential_their_spread_equals_their_mean() -> None:
    sample = gaps(100.0, seed=11, count=20_000)
    # exponential: standard deviation == mean (coefficient of variation 1);
    # a fixed-interval or uniform schedule would be far below
    assert statistics.pstdev(sample) / statistics.fmean(sample) == pytest.approx(1.0, abs=0.05)
    # and P(gap > mean) = 1/e
    above = sum(g > 0.01 for g in sample) / len(sample)
    assert above == pytest.approx(0.3679, abs=0.02)


def test_arrival_times_increase() -> None:
    times = list(itertools.islice(poisson_arrivals(500.0, random.Random(3)), 1000))
    assert all(b > a for a, b in itertools.pairwise(times))


def test_same_seed_same_schedule_other_seed_other_schedule() -> None:
    assert gaps(100.0, 5, 100) == gaps(100.0, 5, 100)
    assert gaps(100.0, 5, 100) != gaps(100.0, 6, 100)


@pytest.mark.parametrize("rate", [0.0, -1.0, float("nan")])
def test_a_rate_that_is_not_positive_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        next(poisson_arrivals(rate, random.Random(1)))
