"""The scrape backend's sample history stays bounded."""

from __future__ import annotations

import pytest

from chaos.slo import SampleHistory
from chaos.slo.query import Selector


def test_samples_older_than_the_retention_are_dropped_and_empty_series_forgotten():
    history = SampleHistory(retention=10.0)
    history.add(0.0, [("a", {"x": "1"}, 1.0), ("b", {}, 1.0)])
    history.add(5.0, [("a", {"x": "1"}, 2.0)])
    history.add(12.0, [("a", {"x": "1"}, 3.0)])
    (series,) = history.select(Selector("a"))
    assert list(series.samples) == [(5.0, 2.0), (12.0, 3.0)]
    assert len(history) == 1  # "b" had no sample left


def test_each_series_keeps_at_most_max_samples():
    history = SampleHistory(retention=1e9, max_samples=3)
    for t in range(10):
        history.add(float(t), [("a", {}, float(t))])
    (series,) = history.select(Selector("a"))
    assert [t for t, _ in series.samples] == [7.0, 8.0, 9.0]


def test_a_history_needs_a_positive_retention():
    with pytest.raises(ValueError, match="retention"):
        SampleHistory(retention=0)
