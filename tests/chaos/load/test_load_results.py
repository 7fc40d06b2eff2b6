"""The journal record: per-second aggregates from raw samples, in bounded memory."""

from __future__ import annotations

import random

import pytest

from chaos.load.outcome import Sample
from chaos.load.quantiles import LogHistogram, nearest_rank
from chaos.load.results import Recorder

START = 1000.0


def sample(at: float, latency: float, outcome: str = "ok", journey: str = "homepage") -> Sample:
    return Sample(journey, "recommendations", "experiment", outcome, 200, START + at, latency, 0.0)


def test_nearest_rank_quantiles_of_raw_samples() -> None:
    values = [float(v) for v in range(1, 101)]
    assert nearest_rank(values, 0.5) == 50.0
    assert nearest_rank(values, 0.99) == 99.0
    assert nearest_rank([7.0], 0.99) == 7.0


def test_log_histogram_quantiles_are_within_one_percent_of_the_exact_ones() -> None:
    rng = random.Random(2)
    values = [rng.lognormvariate(-3, 1) for _ in range(50_000)]
    histogram = LogHistogram()
    for value in values:
        histogram.add(value)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.99, 0.999):
        exact = nearest_rank(ordered, q)
        estimate = histogram.quantile(q)
        assert estimate is not None and exact <= estimate <= exact * 1.0101


def test_each_second_has_its_count_good_and_percentiles_from_its_own_samples() -> None:
    recorder = Recorder(START, timeout=1.0)
    for i in range(100):
        recorder.record(sample(0.005 * i, latency=(i + 1) / 1000))  # second 0: 1..100 ms
    for i in range(10):
        recorder.record(sample(1.5, latency=0.5, outcome="error" if i < 3 else "ok"))
    first, second = recorder.seconds()
    assert (first.second, first.count, first.good) == (0, 100, 100)
    assert (first.p50_ms, first.p99_ms) == (50.0, 99.0)
    assert (second.second, second.count, second.good) == (1, 10, 7)
    assert second.p50_ms == 500.0


def test_arrivals_never_sent_count_as_failures_without_a_latency() -> None:
    recorder = Recorder(START, timeout=1.0)
    recorder.record(sample(0.1, 0.0, outcome="client_overloaded"))
    (only,) = recorder.seconds()
    assert (only.count, only.good, only.p50_ms, only.p99_ms) == (1, 0, None, None)
    (homepage,) = [t for t in recorder.journeys() if t.journey == "homepage"]
    assert homepage.outcomes["client_overloaded"] == 1 and homepage.p99_ms is None


def test_seconds_older_than_the_timeout_horizon_are_reduced_and_their_samples_dropped() -> None:
    recorder = Recorder(START, timeout=1.0)  # horizon: 1 s timeout + 2 s
    for second in range(600):
        for i in range(20):
            recorder.record(sample(second + i / 20, latency=0.01))
    assert len(recorder._open) <= 4  # only the last few seconds hold raw samples
    seconds = recorder.seconds()
    assert [s.second for s in seconds] == list(range(600))
    assert all(s.count == 20 for s in seconds)


def test_an_answer_arriving_after_its_second_was_closed_still_counts() -> None:
    recorder = Recorder(START, timeout=1.0)
    recorder.record(sample(0.0, 0.01))
    recorder.record(sample(10.0, 0.01))  # closes second 0
    recorder.record(sample(0.5, 9.0, outcome="timeout"))
    first = recorder.seconds()[0]
    assert (first.count, first.good) == (2, 1)


def test_journey_totals_count_every_outcome() -> None:
    recorder = Recorder(START, timeout=1.0)
    for outcome in ("ok", "ok", "error", "timeout", "unreachable"):
        recorder.record(sample(0.1, 0.02, outcome=outcome, journey="play"))
    (play,) = [t for t in recorder.journeys() if t.journey == "play"]
    assert play.arrivals == 5 and play.good == 2 and play.ok_percent == pytest.approx(40.0)
    assert play.outcomes == {
        "ok": 2, "error": 1, "timeout": 1, "unreachable": 1, "client_overloaded": 0,
    }  # fmt: skip
    assert play.service == "playback"
