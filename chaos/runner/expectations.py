"""Expectations on the resilience mechanisms, read from metrics after the run.

Each check is a pure function of what the backend reports since the method
started; each result says what was measured, so a failure message carries
the number that failed it. No expectation is met without evidence: a series
that was never read, or a mechanism that saw no traffic, is "not met", and
the result says so.

- `breaker_opened`: the highest value of the caller's breaker-state gauge
  for that dependency since the method started is 1 (open) or more. No
  series: not met.
- `breaker_closed`: that gauge's highest value over the last `LATEST_S`
  seconds is 0 (closed). No series: not met.
- `bulkhead_refused`: the increase of the caller's
  `chaosbed_dependency_calls_total{outcome="rejected"}` for that dependency
  since the method started is above 0 (the kit creates the series at 0 when
  it starts, so a bulkhead that never refused reads 0). No series: not met.
  A fallback served says only that members were spared; this says the
  bulkhead is what capped the calls waiting on the dependency.
- `fallback_served`: the increase of `chaosbed_fallbacks_total{result="served"}`
  since the method started is above 0. No series: not met.
- `retries_within_budget`: judged per window of the kit's retry budget
  (`retry_budget_window_s`, from the services' settings), one dependency of
  the caller at a time, from the method's start to now: in every window the
  retries sent are at most `ratio` x the first tries that reached the
  dependency in that window and the one before it (the kit's window slides:
  a retry is granted against the window of first tries before it) + the most
  the kit's floor can grant in a window (its token bucket full, then
  `retry_budget_min_per_s` x the window). A
  retry, or a call refused by the caller's breaker, bulkhead or deadline, is
  no first try. Windows without readings are skipped; no first try in any
  window (nothing was judged) is not met. The result names the worst window.
- `recovered_within`: the runner's time to recover, at most the bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from chaos.experiment.describe import describe_expectation
from chaos.experiment.model import (
    BreakerClosed,
    BreakerOpened,
    BulkheadRefused,
    Expectation,
    FallbackServed,
    HistoryHolds,
    MonkeyHalts,
    RecoveredWithin,
    RetriesWithinBudget,
)
from chaos.experiment.topology import EDGES
from chaos.slo import SliReader
from services.common.settings import DependencySettings
from services.topology import Metric

__all__ = ["ExpectationResult", "check_expectations"]

BREAKER_STATE = Metric.BREAKER_STATE  # 0 closed, 1 open, 2 half-open
FALLBACKS = Metric.FALLBACKS
CALLS = Metric.DEPENDENCY_CALLS
RETRIES = Metric.RETRIES
FIRST_TRIES = Metric.FIRST_TRIES
# "now" for a gauge: its highest value over the last few seconds
LATEST_S = 3.0
# the kit's retry budget, as every dependency client is built with it
_KIT = DependencySettings(name="", base_url="")
BUDGET_WINDOW_S = _KIT.retry_budget_window_s
# the most the floor's token bucket grants in one window: full at its start, then accruing
BUDGET_FLOOR = _KIT.retry_budget_min_per_s * BUDGET_WINDOW_S + max(1.0, _KIT.retry_budget_min_per_s)


@dataclass(frozen=True)
class ExpectationResult:
    expectation: str
    met: bool
    measured: str

    def to_json(self) -> dict[str, object]:
        return {"expectation": self.expectation, "met": self.met, "measured": self.measured}


@dataclass(frozen=True)
class _Window:
    dependency: str
    start: float  # seconds after the method started
    end: float
    retries: float
    first_tries: float
    allowed: float

    @property
    def excess(self) -> float:
        return self.retries - self.allowed

    def describe(self) -> str:
        return (
            f"{self.retries:.0f} retries to {self.dependency} in +{self.start:g}s..+{self.end:g}s"
            f" for {self.first_tries:.0f} first tries in the {BUDGET_WINDOW_S:g}s before and"
            f" during it (allowed {self.allowed:.0f})"
        )


async def _budget_windows(
    expectation: RetriesWithinBudget, reader: SliReader, since: float, now: float
) -> list[_Window]:
    windows: list[_Window] = []
    dependencies = [edge.dependency for edge in EDGES if edge.caller == expectation.service]
    for dependency in dependencies:
        labels = {"service": expectation.service, "dependency": dependency}
        start = since
        while start < now:
            end = min(start + BUDGET_WINDOW_S, now)
            retries = await reader.increase(RETRIES, labels, start, at=end)
            # a retry at r is granted against the first tries of [r - window, r]: every
            # retry of [start, end] against those of [start - window, end]
            first = await reader.increase(FIRST_TRIES, labels, start - BUDGET_WINDOW_S, at=end)
            if first is not None:  # retries exist whenever first tries do (both start at 0)
                windows.append(
                    _Window(
                        dependency,
                        round(start - since, 3),
                        round(end - since, 3),
                        retries or 0.0,
                        first,
                        expectation.ratio * first + BUDGET_FLOOR,
                    )
                )
            start = end
    return windows


async def _retries_within_budget(
    name: str, expectation: RetriesWithinBudget, reader: SliReader, since: float, now: float
) -> ExpectationResult:
    windows = await _budget_windows(expectation, reader, since, now)
    if not windows:
        return ExpectationResult(
            name, False, f"no data: no retry or first-try series of {expectation.service}"
        )
    if sum(w.first_tries for w in windows) < 0.5:
        return ExpectationResult(
            name,
            False,
            f"nothing to judge: no call of {expectation.service} reached a dependency "
            f"in {len(windows)} budget windows",
        )
    worst = max(windows, key=lambda w: (w.excess, w.retries))
    over = sum(1 for w in windows if w.excess > 0)
    return ExpectationResult(
        name,
        over == 0,
        f"worst of {len(windows)} budget windows of {BUDGET_WINDOW_S:g}s: {worst.describe()}"
        + (f"; {over} of them over budget" if over else ""),
    )


async def _one(
    expectation: Expectation,
    reader: SliReader,
    since: float,
    recovered_after: float | None,
    now: float,
) -> ExpectationResult:
    name = describe_expectation(expectation)
    if isinstance(expectation, BreakerOpened):
        labels = {"service": expectation.edge.caller, "dependency": expectation.edge.dependency}
        peak = await reader.max_over(BREAKER_STATE, labels, since, at=now)
        if peak is None:
            return ExpectationResult(name, False, "no data: the breaker's state was never read")
        return ExpectationResult(name, peak >= 1, f"highest breaker state {peak:g} (1 open)")
    if isinstance(expectation, BreakerClosed):
        labels = {"service": expectation.edge.caller, "dependency": expectation.edge.dependency}
        state = await reader.max_over(BREAKER_STATE, labels, now - LATEST_S, at=now)
        if state is None:
            return ExpectationResult(
                name, False, f"no data: the breaker's state was not read in the last {LATEST_S:g}s"
            )
        return ExpectationResult(name, state == 0, f"breaker state now {state:g} (0 closed)")
    if isinstance(expectation, BulkheadRefused):
        edge = expectation.edge
        labels = {"service": edge.caller, "dependency": edge.dependency, "outcome": "rejected"}
        refused = await reader.increase(CALLS, labels, since, at=now)
        if refused is None:
            return ExpectationResult(name, False, "no data: the calls' counter was never read")
        return ExpectationResult(
            name,
            refused > 0,
            f"{refused:g} calls refused by the bulkhead on {edge}",
        )
    if isinstance(expectation, FallbackServed):
        labels = {"service": expectation.service, "result": "served"}
        if expectation.fallback:
            labels["fallback"] = expectation.fallback
        served = await reader.increase(FALLBACKS, labels, since, at=now)
        if served is None:
            return ExpectationResult(name, False, "no data: the fallback counter was never read")
        return ExpectationResult(name, served > 0, f"{served:g} fallback answers served")
    if isinstance(expectation, RetriesWithinBudget):
        return await _retries_within_budget(name, expectation, reader, since, now)
    assert isinstance(expectation, RecoveredWithin)
    if recovered_after is None:
        return ExpectationResult(name, False, "never recovered")
    return ExpectationResult(
        name, recovered_after <= expectation.seconds, f"recovered after {recovered_after:.1f}s"
    )


async def check_expectations(
    expect: tuple[Expectation, ...],
    reader: SliReader,
    *,
    since: float,
    seconds: float | None = None,  # unused: every check reads from `since` to `now`
    recovered_after: float | None,
    now: float | None = None,
) -> list[ExpectationResult]:
    """Judge `expect` on what `reader` saw from `since` (the method's start) to
    `now` (default: the wall clock), both wall-clock times."""
    at = time.time() if now is None else now
    results = []
    for expectation in expect:
        if isinstance(expectation, HistoryHolds | MonkeyHalts):  # judged from their journals
            continue
        try:
            results.append(await _one(expectation, reader, since, recovered_after, at))
        except Exception as exc:  # noqa: BLE001 - a backend error fails the expectation
            results.append(
                ExpectationResult(describe_expectation(expectation), False, f"error: {exc!r}")
            )
    return results
