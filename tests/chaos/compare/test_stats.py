"""One metric, control against experiment: the classification on edge cases
(empty, all equal, NaN, one cohort empty), each direction and tolerance, the
Hodges-Lehmann shift against a brute-force one, and the alpha of repeated looks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaos.compare.stats import (
    MAX_PAIRS,
    classify,
    hodges_lehmann,
    look_level,
    sequential_bound,
)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
samples = st.lists(finite, max_size=60)


@given(samples, samples)
@settings(max_examples=200, deadline=None)
def test_any_samples_get_a_classification_and_no_data_is_never_a_pass(
    control: list[float], experiment: list[float]
) -> None:
    found = classify(control, experiment)
    assert found.classification in ("pass", "high", "low", "nodata")
    if not control or not experiment:
        assert found.classification == "nodata" and "no data" in found.reason
    else:
        assert found.p_value is not None and 0 <= found.p_value <= 1
        assert found.shift_low is not None and found.shift_high is not None
        assert found.shift_low <= found.shift_high


@pytest.mark.parametrize("value", [0.0, 1.0, 250.0])
def test_all_equal_samples_pass_with_nothing_to_tell_apart(value: float) -> None:
    found = classify([value] * 50, [value] * 80)
    assert found.classification == "pass" and found.p_value == 1.0
    assert found.ratio == 1.0 and found.shift == 0.0


def test_nan_and_infinite_samples_are_dropped_and_counted() -> None:
    found = classify([1.0, math.nan, 2.0, 3.0], [math.inf, 2.0, -math.inf, 3.0])
    assert (found.control_n, found.experiment_n, found.dropped) == (3, 2, 3)
    only_nan = classify([math.nan] * 10, [1.0] * 10)
    assert only_nan.classification == "nodata" and only_nan.dropped == 10


def test_too_few_samples_in_one_cohort_is_no_data() -> None:
    found = classify([1.0] * 100, [5.0] * 19, min_samples=20)
    assert found.classification == "nodata"
    assert "100 control and 19 experiment samples (at least 20 each" in found.reason


def shifted(factor: float, n: int = 1000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.exponential(80, n), rng.exponential(80, n) * factor


def test_a_slower_experiment_is_high_unless_only_a_decrease_is_bad() -> None:
    control, experiment = shifted(1.5)
    assert classify(control, experiment, direction="increase").classification == "high"
    assert classify(control, experiment, direction="either").classification == "high"
    harmless = classify(control, experiment, direction="decrease")
    assert harmless.classification == "pass" and "harmless direction" in harmless.reason


def test_a_significant_change_within_the_allowed_effect_passes() -> None:
    control, experiment = shifted(1.5, n=3000)
    assert classify(control, experiment, allowed_increase=1.3).classification == "high"
    tolerated = classify(control, experiment, allowed_increase=2.0)
    assert tolerated.classification == "pass" and "within the allowed effect" in tolerated.reason


def test_a_lower_success_rate_is_low_on_zero_one_samples() -> None:
    """Kayenta's rule (the Hodges-Lehmann interval excludes 0) cannot see this: on
    0/1 samples the interval is [0, 0]; the test's p-value can."""
    control = [1.0] * 980 + [0.0] * 20
    experiment = [1.0] * 900 + [0.0] * 100
    found = classify(control, experiment, direction="decrease", allowed_decrease=0.99)
    assert found.classification == "low", found.reason
    assert (found.shift_low, found.shift_high) == (0.0, 0.0)


def test_the_effect_is_the_ratio_of_means_and_the_hodges_lehmann_shift() -> None:
    control = np.arange(100, dtype=float)
    experiment = control + 30
    found = classify(control, experiment)
    assert found.ratio == pytest.approx(79.5 / 49.5)
    assert found.shift == pytest.approx(30.0)
    assert found.shift_low is not None and found.shift_high is not None
    assert found.shift_low < 30 < found.shift_high


def test_a_control_mean_of_zero_makes_any_increase_infinite() -> None:
    found = classify([0.0] * 50, [0.0] * 40 + [5.0] * 10)
    assert found.ratio == math.inf


@given(st.lists(finite, min_size=1, max_size=25), st.lists(finite, min_size=1, max_size=25))
@settings(max_examples=100, deadline=None)
def test_the_shift_is_the_median_of_every_pairwise_difference(
    control: list[float], experiment: list[float]
) -> None:
    shift, low, high = hodges_lehmann(np.array(control), np.array(experiment), 0.98)
    brute = float(np.median([e - c for e in experiment for c in control]))
    assert shift == pytest.approx(brute, abs=1e-6)
    assert low <= shift <= high


def test_huge_cohorts_stay_bounded_in_memory() -> None:
    rng = np.random.default_rng(5)
    side = int(math.sqrt(MAX_PAIRS)) * 3
    found = classify(rng.normal(100, 10, side), rng.normal(105, 10, side))
    assert found.shift == pytest.approx(5, abs=1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"confidence": 1.0},
        {"confidence": 0.2},
        {"allowed_increase": 0.9},
        {"allowed_decrease": 1.2},
    ],  # fmt: skip
)
def test_impossible_settings_are_refused_naming_them(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        classify([1.0], [1.0], **kwargs)  # type: ignore[arg-type]


def test_a_look_needs_more_evidence_the_earlier_it_is() -> None:
    levels = [look_level(0.02, k / 20) for k in range(0, 21)]
    assert levels[0] == 0
    assert all(a < b for a, b in zip(levels[1:], levels[2:], strict=False))
    assert levels[5] < 0.001  # a quarter of the way: overwhelming evidence only
    assert levels[-1] == pytest.approx(0.01, rel=1e-6)  # |Z| >= 2.576 at the end
    assert look_level(0.02, 3.0) == levels[-1]  # past the plan: no more than the end


def test_the_bound_keeps_a_watched_random_walk_under_alpha() -> None:
    """A statistic under no difference, watched at 1000 looks: it crosses the
    boundary at most alpha of the time (Brownian paths, 20,000 of them)."""
    rng = np.random.default_rng(5)
    looks, paths, alpha = 1000, 20_000, 0.02
    c = sequential_bound(alpha)
    crossed = np.zeros(paths, dtype=bool)
    walk = np.zeros(paths)
    for _ in range(looks):
        walk += rng.standard_normal(paths) / np.sqrt(looks)  # B(t) at t = k / looks
        crossed |= np.abs(walk) >= c
    rate = float(crossed.mean())
    print(f"{looks} looks, {paths} paths: {rate:.2%} cross (alpha {alpha:.0%})")
    assert rate <= alpha
    assert rate > alpha / 2  # the bound is not loose to uselessness
