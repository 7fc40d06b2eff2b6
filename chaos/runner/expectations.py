"""Expectations on the resilience mechanisms, read from metrics after the run.

Each check is a pure function of what the backend reports since the method
started; each result says what was measured, so a failure message carries
the number that failed it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from chaos.experiment.describe import describe_expectation
from chaos.experiment.model import (
    BreakerClosed,
    BreakerOpened,
    Expectation,
    FallbackServed,
    HistoryHolds,
    RecoveredWithin,
    RetriesWithinBudget,
)
from chaos.slo import SliReader

__all__ = ["ExpectationResult", "check_expectations"]

BREAKER_STATE = "chaosbed_circuit_breaker_state"  # 0 closed, 1 open, 2 half-open
FALLBACKS = "chaosbed_fallbacks_total"
RETRIES = "chaosbed_retries_total"
CALLS = "chaosbed_dependency_calls_total"
# "now" for a gauge: its highest value over the last few seconds
LATEST_S = 3.0
# the retry budget's floor: retries allowed per second whatever the traffic
BUDGET_FLOOR_PER_S = 2.0


@dataclass(frozen=True)
class ExpectationResult:
    expectation: str
    met: bool
    measured: str

    def to_json(self) -> dict[str, object]:
        return {"expectation": self.expectation, "met": self.met, "measured": self.measured}


async def _one(
    expectation: Expectation,
    reader: SliReader,
    since: float,
    seconds: float,
    recovered_after: float | None,
    now: float,
) -> ExpectationResult:
    name = describe_expectation(expectation)
    if isinstance(expectation, BreakerOpened):
        labels = {"service": expectation.edge.caller, "dependency": expectation.edge.dependency}
        peak = await reader.max_over(BREAKER_STATE, labels, since)
        met = peak is not None and peak >= 1
        return ExpectationResult(name, met, f"highest breaker state {_fmt(peak)} (1 open)")
    if isinstance(expectation, BreakerClosed):
        labels = {"service": expectation.edge.caller, "dependency": expectation.edge.dependency}
        state = await reader.max_over(BREAKER_STATE, labels, now - LATEST_S)
        return ExpectationResult(name, state == 0, f"breaker state now {_fmt(state)} (0 closed)")
    if isinstance(expectation, FallbackServed):
        labels = {"service": expectation.service, "result": "served"}
        if expectation.fallback:
            labels["fallback"] = expectation.fallback
        served = await reader.increase(FALLBACKS, labels, since)
        met = served is not None and served > 0
        return ExpectationResult(name, met, f"{_fmt(served)} fallback answers served")
    if isinstance(expectation, RetriesWithinBudget):
        labels = {"service": expectation.service}
        retries = await reader.increase(RETRIES, labels, since)
        calls = await reader.increase(CALLS, labels, since)
        if retries is None or calls is None:
            return ExpectationResult(name, False, "no retry or call metrics")
        allowed = expectation.ratio * calls + BUDGET_FLOOR_PER_S * seconds
        return ExpectationResult(
            name,
            retries <= allowed,
            f"{retries:.0f} retries for {calls:.0f} calls (allowed {allowed:.0f})",
        )
    assert isinstance(expectation, RecoveredWithin)
    if recovered_after is None:
        return ExpectationResult(name, False, "never recovered")
    return ExpectationResult(
        name, recovered_after <= expectation.seconds, f"recovered after {recovered_after:.1f}s"
    )


def _fmt(value: float | None) -> str:
    return "no data" if value is None else f"{value:g}"


async def check_expectations(
    expect: tuple[Expectation, ...],
    reader: SliReader,
    *,
    since: float,
    seconds: float,
    recovered_after: float | None,
) -> list[ExpectationResult]:
    results = []
    for expectation in expect:
        if isinstance(expectation, HistoryHolds):  # judged by the history driver
            continue
        try:
            results.append(
                await _one(expectation, reader, since, seconds, recovered_after, time.time())
            )
        except Exception as exc:  # noqa: BLE001 - a backend error fails the expectation
            results.append(
                ExpectationResult(describe_expectation(expectation), False, f"error: {exc!r}")
            )
    return results
