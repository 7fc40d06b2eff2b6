"""The scrape backend's sample history stays bounded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.experiment import limits
from chaos.slo import SampleHistory, ScrapeReader
from chaos.slo.query import Selector

from .conftest import Clock


def test_samples_older_than_the_retention_are_dropped_and_empty_series_forgotten() -> None:
    history = SampleHistory(retention=10.0)
    history.add(0.0, [("a", {"x": "1"}, 1.0), ("b", {}, 1.0)])
    history.add(5.0, [("a", {"x": "1"}, 2.0)])
    history.add(12.0, [("a", {"x": "1"}, 3.0)])
    (series,) = history.select(Selector("a"))
    assert list(series.samples) == [(5.0, 2.0), (12.0, 3.0)]
    assert len(history) == 1  # "b" had no sample left


def test_each_series_keeps_at_most_max_samples() -> None:
    history = SampleHistory(retention=1e9, max_samples=3)
    for t in range(10):
        history.add(float(t), [("a", {}, float(t))])
    (series,) = history.select(Selector("a"))
    assert [t for t, _ in series.samples] == [7.0, 8.0, 9.0]


def test_a_history_needs_a_positive_retention() -> None:
    with pytest.raises(ValueError, match="retention"):
        SampleHistory(retention=0)


def test_the_default_retention_covers_the_longest_run_the_loader_accepts() -> None:
    longest_run = limits.WARMUP[1] + limits.HOLD[1] + limits.MAX_METHOD + limits.RECOVERED_WITHIN[1]
    history = SampleHistory()
    assert history.retention >= longest_run
    assert history.max_samples >= longest_run  # at one scrape a second


async def test_a_breaker_that_opened_in_the_first_minute_of_an_hour_long_method_is_remembered() -> (
    None
):
    state = "chaosbed_circuit_breaker_state"
    labels = {"service": "recommendations", "dependency": "catalog"}
    clock = Clock(0.0)
    reader = ScrapeReader([], clock=clock)
    for t in range(int(limits.MAX_METHOD) + 60):
        reader.history.add(float(t), [(state, labels, 1.0 if 30 <= t < 40 else 0.0)])
    clock.now = limits.MAX_METHOD + 59
    assert await reader.max_over(state, labels, since=0.0) == 1.0


async def test_retries_of_the_first_minute_still_count_an_hour_later() -> None:
    retries = "chaosbed_retries_total"
    labels = {"service": "playback", "dependency": "catalog"}
    clock = Clock(0.0)
    reader = ScrapeReader([], clock=clock)
    for t in range(int(limits.MAX_METHOD) + 60):
        reader.history.add(float(t), [(retries, labels, 500.0 if t >= 30 else 0.0)])
    clock.now = limits.MAX_METHOD + 59
    assert await reader.increase(retries, labels, since=0.0) == pytest.approx(500.0)


@given(
    st.lists(
        st.lists(st.sampled_from([None, 0.0, 1.0, 2.0]), min_size=3, max_size=3),
        min_size=1,
        max_size=60,
    ),
    st.integers(min_value=2, max_value=20),
    st.floats(min_value=1.0, max_value=40.0),
)
def test_the_samples_read_back_are_exactly_those_kept(
    scrapes: list[list[float | None]], max_samples: int, retention: float
) -> None:
    """Runs of equal values are stored once, and read back as every sample:
    the same as a plain list of samples trimmed by age and count."""
    history = SampleHistory(retention=retention, max_samples=max_samples)
    expected: dict[str, list[tuple[float, float]]] = {name: [] for name in "abc"}
    for t, values in enumerate(scrapes):
        now = float(t)
        present = [(name, v) for name, v in zip("abc", values, strict=True) if v is not None]
        history.add(now, [(name, {}, v) for name, v in present])
        for name, v in present:
            expected[name] = (expected[name] + [(now, v)])[-max_samples:]
        for name in expected:
            expected[name] = [(ts, v) for ts, v in expected[name] if ts >= now - retention]
    for name, samples in expected.items():
        found = list(history.select(Selector(name)))
        assert [s.samples for s in found] == ([samples] if samples else [])
        if samples:
            start, end = samples[0][0] + 0.5, samples[-1][0]
            assert found[0].between(start, end) == [s for s in samples if start <= s[0] <= end]
