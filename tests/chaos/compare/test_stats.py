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
    classify_rates,
    hodges_lehmann,
    look_level,
    sequential_bound,
    smallest_p,
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
    elif smallest_p(len(control), len(experiment)) >= 0.02:  # too few ever to tell apart
        assert found.classification == "nodata" and "can never differ" in found.reason
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


def test_samples_too_few_to_ever_be_significant_are_no_data_not_a_pass() -> None:
    """Five reads a cohort, completely apart: scipy's continuity-corrected test gives
    p = 0.0122 at best, so at a level of 0.01 (a critical metric's last look) they could
    never fail: no data, which fails, rather than a pass that rests on nothing."""
    assert smallest_p(5, 5) == pytest.approx(0.0122, abs=1e-4)
    control, experiment = [1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 11.0, 12.0, 13.0, 14.0]
    strict = classify(control, experiment, alpha=0.01)
    assert strict.classification == "nodata" and "can never differ" in strict.reason
    assert classify(control, experiment, alpha=0.02).classification == "high"
    assert smallest_p(6, 6) < 0.01  # a sixth read each makes the last look possible


def test_rates_are_compared_per_exposure_by_the_exact_conditional_test() -> None:
    # the same rate per member-second in cohorts of unequal size: no difference
    even = classify_rates((290, 29.0 * 10), (232, 23.2 * 10), direction="decrease")
    assert even.classification == "pass" and even.ratio == pytest.approx(1.0)
    assert even.u_statistic is None and even.p_value is not None and even.p_value > 0.5
    # half the experiment's starts gone: low, the ratio of rates ~0.5
    half = classify_rates((290, 29.0 * 10), (116, 23.2 * 10), direction="decrease")
    assert half.classification == "low" and half.ratio == pytest.approx(0.5)
    assert half.shift == pytest.approx(0.5 - 1.0)  # the rates' difference
    # the harmless direction
    more = classify_rates((290, 29.0 * 10), (464, 23.2 * 10), direction="decrease")
    assert more.classification == "pass"


@pytest.mark.parametrize(
    ("control", "experiment", "words"),
    [((0, 290.0), (0, 232.0), "none to compare"), ((3, 290.0), (0, 232.0), "can never differ"),
     ((5, 0.0), (4, 232.0), "none to compare")],
    ids=["no-event", "too-few-events", "no-exposure"],
)  # fmt: skip
def test_rates_without_evidence_are_no_data(
    control: tuple[int, float], experiment: tuple[int, float], words: str
) -> None:
    found = classify_rates(control, experiment)
    assert found.classification == "nodata" and words in found.reason


def test_the_shift_interval_is_at_the_confidence_whatever_the_looks_level() -> None:
    """An early look's level is tiny (1e-49): the interval stays the metric's 98% one
    instead of an infinite z that no order statistic can index."""
    control, experiment = [1.0] * 3000, [1.0] * 1500 + [0.0] * 1500
    found = classify(control, experiment, direction="decrease", alpha=1e-49)
    assert found.classification == "low" and found.shift_low is not None
    wide = hodges_lehmann(np.arange(10.0), np.arange(10.0) + 5, 1.0)
    assert wide[1] == -4.0 and wide[2] == 14.0  # a confidence of 1: every difference
