"""The statistics are honest: on member traffic recorded from the real stack with
no fault (samples/process-no-fault.json, tests/chaos/compare/record_samples.py),
cohorts drawn at random from the same requests (A/A) are called different at
most as often as the confidence allows, with one look and with a look every
second; and a known shift (A/B) is found at the sample sizes a cohort
experiment gets. Each test prints its figure."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from chaos.compare.stats import (
    DEFAULT_CONFIDENCE,
    MetricComparison,
    classify,
    classify_rates,
    look_level,
)

SAMPLES = Path(__file__).parent / "samples" / "process-no-fault.json"
ALPHA = 1 - DEFAULT_CONFIDENCE
#: Per cohort: what a cohort experiment gets from 40 members' requests a second,
#: 25% of members in each cohort, over a 15-second method.
N = 150
#: Looks during the method: about one a second.
LOOKS = 15
#: A cohort needs this many samples before a look may judge it.
MIN_SAMPLES = 20


@cache
def pool(journey: str) -> tuple[np.ndarray, np.ndarray]:
    """Latency (ms) and success (1/0) of every recorded request of a journey."""
    rows = [r for r in json.loads(SAMPLES.read_text())["samples"] if r[0] == journey]
    return np.array([r[2] for r in rows]), np.array([float(r[3]) for r in rows])


def bound(runs: int) -> float:
    """ALPHA plus 2.33 standard errors: an honest judge stays under it 99 times in 100."""
    return ALPHA + 2.33 * math.sqrt(ALPHA * (1 - ALPHA) / runs)


def split(values: np.ndarray, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    drawn = rng.choice(values, size=2 * n, replace=values.size < 2 * n)
    return drawn[:n], drawn[n:]


def test_the_recording_is_real_traffic_of_both_cohorts() -> None:
    rows = json.loads(SAMPLES.read_text())["samples"]
    assert len(rows) >= 2000
    assert {r[1] for r in rows} == {"control", "experiment"}
    latencies, _ = pool("homepage")
    assert latencies.size >= 800 and np.unique(latencies).size > 100


@pytest.mark.parametrize("journey", ["homepage", "play"])
def test_a_a_latency_with_one_look_is_a_false_alarm_at_most_as_often_as_allowed(
    journey: str,
) -> None:
    latencies, _ = pool(journey)
    rng = np.random.default_rng(11)
    runs = 1000
    alarms = 0
    for _ in range(runs):
        control, experiment = split(latencies, rng, N)
        found = classify(control, experiment, alpha=ALPHA, with_shift=False)
        alarms += found.classification != "pass"
    rate = alarms / runs
    print(f"A/A {journey} latency, one look, {runs} runs of {N}+{N}: {rate:.2%} false alarms")
    assert rate <= bound(runs)


def looks(control: np.ndarray, experiment: np.ndarray) -> tuple[bool, bool]:
    """Whether any of LOOKS looks, on the samples so far, calls the cohorts different:
    at each look's sequential level (`look_level`), and with ALPHA at every look. (A
    smaller level only removes alarms, so the corrected alarm is the naive one with p
    under the look's level.)"""
    corrected = naive = False
    for k in range(1, LOOKS + 1):
        upto = control.size * k // LOOKS
        if upto < MIN_SAMPLES:
            continue
        found = classify(control[:upto], experiment[:upto], alpha=ALPHA, with_shift=False)
        if found.classification != "pass":
            naive = True
            level = look_level(ALPHA, k / LOOKS)
            corrected = corrected or (found.p_value is not None and found.p_value < level)
    return corrected, naive


def test_a_a_with_a_look_every_second_stays_within_the_confidence_only_when_corrected() -> None:
    """Fifteen looks at 2% each would cry wolf far more often than 2%; with each
    look at its sequential level (an O'Brien-Fleming-shaped boundary) the whole
    method stays under it."""
    latencies, _ = pool("homepage")
    rng = np.random.default_rng(12)
    runs = 300
    corrected = naive = 0
    for _ in range(runs):
        control, experiment = split(latencies, rng, N)
        shared, alarmed = looks(control, experiment)
        corrected += shared
        naive += alarmed
    print(
        f"A/A homepage latency, {LOOKS} looks, {runs} runs: {corrected / runs:.2%} false "
        f"alarms at sequential levels, {naive / runs:.2%} with {ALPHA:.0%} at every look"
    )
    assert corrected / runs <= bound(runs)
    assert naive > corrected


@pytest.mark.parametrize(("factor", "at_least"), [(1.1, 0.0), (1.2, 0.8)])
def test_a_b_latency_a_fifth_slower_is_found_at_the_sample_size_of_an_experiment(
    factor: float, at_least: float
) -> None:
    """x1.2 must be found 8 times in 10; x1.1 is printed (what a smaller effect gets)."""
    latencies, _ = pool("homepage")
    rng = np.random.default_rng(13)
    runs = 300
    found = 0
    for _ in range(runs):
        control, experiment = split(latencies, rng, N)
        judged = classify(control, experiment * factor, direction="increase", alpha=ALPHA,
                          with_shift=False)  # fmt: skip
        found += judged.classification == "high"
    power = found / runs
    print(f"A/B homepage latency x{factor}, {N}+{N}: power {power:.0%}")
    assert power >= at_least


def test_a_b_success_a_tenth_failing_is_found_at_the_sample_size_of_an_experiment() -> None:
    _, successes = pool("play")
    rng = np.random.default_rng(14)
    runs = 300
    found = 0
    for _ in range(runs):
        control, experiment = split(successes, rng, N)
        failing = experiment.copy()
        failing[rng.random(N) < 0.10] = 0.0
        judged = classify(control, failing, direction="decrease", alpha=ALPHA,
                          with_shift=False)  # fmt: skip
        found += judged.classification == "low"
    power = found / runs
    print(f"A/B play success, a tenth more failing, {N}+{N}: power {power:.0%}")
    assert power >= 0.8


def test_the_a_a_experiments_own_metrics_cry_wolf_under_one_run_in_a_hundred() -> None:
    """chaos/experiments/cohorts-a-a-no-fault.yaml at its sizes: homepage latency (150
    requests a cohort, increase bad past 1.25x) from the recording, and starts per
    second (23 whole seconds; 93 and 116 of its 400 members in the two cohorts, 16
    Poisson plays a second in all, as its load sends them; decrease bad past 0.7x)."""
    latencies, _ = pool("homepage")
    rng = np.random.default_rng(15)
    runs = 2000
    latency_alarms = starts_alarms = 0
    for _ in range(runs):
        control, experiment = split(latencies, rng, N)
        found = classify(control, experiment, direction="increase", allowed_increase=1.25,
                         alpha=ALPHA, with_shift=False)  # fmt: skip
        latency_alarms += found.classification != "pass"
        found = starts(rng, (116, 93), 400, 16.0, 23, "decrease", 0.7)
        starts_alarms += found.classification != "pass"
    print(
        f"A/A experiment, {runs} runs: homepage latency {latency_alarms / runs:.2%}, "
        f"starts per second {starts_alarms / runs:.2%} false alarms"
    )
    assert latency_alarms / runs < 0.005 and starts_alarms / runs < 0.01


def starts(
    rng: np.random.Generator,
    members: tuple[int, int],
    everyone: int,
    plays: float,
    seconds: int,
    direction: str,
    allowed: float,
) -> MetricComparison:
    """Starts of two cohorts of `members` (control, experiment) of `everyone`, `plays`
    a second in all, picked member by member: judged as the runner judges them."""
    percents = [100 * m / everyone for m in members]
    counts = [int(rng.poisson(plays * seconds * m / everyone)) for m in members]
    return classify_rates(
        *[(c, p * seconds) for c, p in zip(counts, percents, strict=True)],
        direction=direction,  # type: ignore[arg-type]
        allowed_decrease=allowed if direction == "decrease" else 1.0,
        allowed_increase=allowed if direction == "increase" else 1.0,
        alpha=ALPHA,
    )


@pytest.mark.parametrize("seconds", [30, 60, 120])
@pytest.mark.parametrize("direction", ["decrease", "increase"])
def test_starts_of_cohorts_of_unequal_size_are_no_false_alarm_however_long_the_run(
    seconds: int, direction: str
) -> None:
    """A member's cohort is a hash of its id, so cohorts differ in size (93 and 116 of
    400; 85 and 99 of 1000). Scaled per-second counts compared by rank cried wolf more
    the longer the run (5.3% at 120 s); the rates' exact conditional test does not."""
    rng = np.random.default_rng(seconds)
    runs = 3000
    alarms = 0
    for _ in range(runs):
        sizes, everyone = ((116, 93), 400) if rng.random() < 0.5 else ((99, 85), 1000)
        found = starts(rng, sizes, everyone, 16.0, seconds, direction, 1.0)
        alarms += found.classification != "pass"
    rate = alarms / runs
    print(f"A/A starts, unequal cohorts, {seconds} s, {direction} bad: {rate:.2%} false alarms")
    assert rate <= bound(runs) / 2  # one direction of a two-sided test


@pytest.mark.parametrize(("factor", "at_least"), [(0.8, 0.0), (0.6, 0.8)])
def test_starts_a_third_fewer_are_found_in_a_minute(factor: float, at_least: float) -> None:
    """Two cohorts of 116 and 93 of 400 members, 16 plays a second in all: about 280
    and 220 starts a minute. 40% fewer must be found 8 times in 10; 20% is printed."""
    rng = np.random.default_rng(16)
    runs = 1000
    found = 0
    for _ in range(runs):
        control = int(rng.poisson(16.0 * 60 * 116 / 400))
        experiment = int(rng.poisson(factor * 16.0 * 60 * 93 / 400))
        judged = classify_rates((control, 29.0 * 60), (experiment, 23.25 * 60),
                                direction="decrease", alpha=ALPHA)  # fmt: skip
        found += judged.classification == "low"
    print(f"A/B starts x{factor}, 60 s: power {found / runs:.0%}")
    assert found / runs >= at_least
