"""PromQL's `increase()` and `histogram_quantile()`, computed the way Prometheus 2.x does.

The scrape backend uses these so that it gives the answers a Prometheus
server would give on the same samples:

- `increase(samples, start, end)`: the samples of one counter with
  timestamps in [start, end]; at least two are needed. A value lower than
  the one before it is a counter reset (the process restarted): the value
  before the reset is added back. The raw increase between the first and the
  last sample is then extrapolated towards the window's edges: to an edge
  when the gap to it is under 1.1 average sample intervals, else by half an
  interval; and never to before the counter would have been zero.
- `histogram_quantile(q, buckets)`: buckets are (upper bound, cumulative
  count). The highest bound must be +Inf; counts are made monotone; the
  quantile is interpolated linearly inside the bucket it falls in, the
  lowest bucket starting at 0; a quantile in the +Inf bucket is the
  highest finite bound. No observations give NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

__all__ = ["histogram_quantile", "increase"]


def increase(samples: Sequence[tuple[float, float]], start: float, end: float) -> float | None:
    """The increase of a counter over [start, end] from (timestamp, value) samples in order."""
    points = [(t, v) for t, v in samples if start <= t <= end and not math.isnan(v)]
    if len(points) < 2:
        return None
    first_t, first_v = points[0]
    last_t, last_v = points[-1]
    result = last_v - first_v
    previous = 0.0
    for _, value in points:
        if value < previous:
            result += previous
        previous = value
    sampled = last_t - first_t
    if sampled <= 0:
        return None
    to_start = first_t - start
    to_end = end - last_t
    average = sampled / (len(points) - 1)
    if result > 0 and first_v >= 0:
        to_zero = sampled * (first_v / result)
        to_start = min(to_start, to_zero)
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    return result * (interval / sampled)


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """The q-quantile (0 <= q <= 1) of a histogram given as (upper bound, cumulative count)."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for bound, count in buckets:
        merged[bound] = merged.get(bound, 0.0) + count
    ordered = sorted(merged.items())
    if not ordered or ordered[-1][0] != math.inf or len(ordered) < 2:
        return math.nan
    bounds = [b for b, _ in ordered]
    counts: list[float] = []
    highest = 0.0
    for _, count in ordered:
        highest = max(highest, count)
        counts.append(highest)
    observations = counts[-1]
    if observations == 0:
        return math.nan
    rank = q * observations
    index = next(i for i, count in enumerate(counts) if count >= rank)
    if index == len(counts) - 1:
        return bounds[-2]
    if index == 0 and bounds[0] <= 0:
        return bounds[0]
    lower, upper, count = 0.0, bounds[index], counts[index]
    if index > 0:
        lower = bounds[index - 1]
        count -= counts[index - 1]
        rank -= counts[index - 1]
    if count == 0:
        return math.nan  # q == 0 and an empty lowest bucket: 0/0, as in Prometheus
    return lower + (upper - lower) * (rank / count)
