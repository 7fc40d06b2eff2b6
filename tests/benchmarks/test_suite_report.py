"""The suite's report: percentiles, ratios, and one table with each figure
beside its baseline."""

from __future__ import annotations

import math

from benchmarks.__main__ import table
from benchmarks.harness import Row, pct


def test_a_percentile_is_the_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]

    assert (pct(samples, 50), pct(samples, 99), pct(samples, 100)) == (51.0, 100.0, 100.0)


def test_a_percentile_of_no_samples_is_nan() -> None:
    assert math.isnan(pct([], 99))


def test_the_ratio_is_figure_over_baseline_and_none_for_a_zero_baseline() -> None:
    assert Row("a", "p50", 3.0, 2.0, "ms").ratio == 1.5
    assert Row("a", "gc", 3.0, 0.0, "count").ratio is None


def test_the_table_shows_each_figure_beside_its_baseline_ratio_and_verdict() -> None:
    rows = [
        Row("a kit", "p50", 1.25, 1.0, "ms", goal="<= 1.15x", met=False, note="n=10"),
        Row("b amp", "leaf per member", 1.08, 1.0, "req", goal="<= 1.1", met=True),
    ]

    lines = table(rows).splitlines()

    assert lines[0].split()[:5] == ["benchmark", "metric", "figure", "baseline", "ratio"]
    assert lines[2].split()[2:10] == ["p50", "1.250", "1.000", "1.25x", "ms", "<=", "1.15x", "NO"]
    assert "1.08  " in lines[3] and "1.00  " in lines[3] and lines[3].split()[-1] == "yes"
