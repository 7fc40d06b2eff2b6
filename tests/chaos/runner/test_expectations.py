"""Expectations are judged on evidence: the real scrape backend reads a
hand-written history (one scrape a second from the method's start), and no
expectation is met when the series it needs are missing or saw nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from chaos.experiment.model import (
    BreakerClosed,
    BreakerOpened,
    BulkheadRefused,
    Edge,
    Expectation,
    FallbackServed,
    RetriesWithinBudget,
)
from chaos.runner.expectations import (
    BUDGET_FLOOR,
    BUDGET_WINDOW_S,
    ExpectationResult,
    check_expectations,
)
from chaos.slo import ScrapeReader
from services.common.settings import DependencySettings

SINCE = 1_000_000.0
PLAYBACK_CATALOG = {"service": "playback", "dependency": "catalog", "job": "playback"}
RETRIES = "chaosbed_retries_total"
FIRST_TRIES = "chaosbed_dependency_first_tries_total"
CALLS = "chaosbed_dependency_calls_total"
BREAKER = "chaosbed_circuit_breaker_state"

# per-second increments (or gauge values) of one series, by the second since SINCE
PerSecond = Callable[[int], float]


def reader_of(
    seconds: int, series: Mapping[tuple[str, tuple[tuple[str, str], ...]], PerSecond]
) -> ScrapeReader:
    """A scrape reader whose history holds `seconds` + 1 scrapes of `series`:
    counters (names ending in _total) summed from their per-second increments."""
    reader = ScrapeReader([], clock=lambda: SINCE + seconds)
    totals = dict.fromkeys(series, 0.0)
    for t in range(seconds + 1):
        samples = []
        for key, per_second in series.items():
            metric, labels = key
            if metric.endswith("_total"):
                totals[key] += per_second(t) if t else 0.0
                value = totals[key]
            else:
                value = per_second(t)
            samples.append((metric, dict(labels), value))
        reader.history.add(SINCE + t, samples)
    return reader


def key(metric: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return metric, tuple(sorted({**PLAYBACK_CATALOG, **labels}.items()))


async def judge(reader: ScrapeReader, expectation: Expectation, seconds: int) -> ExpectationResult:
    (result,) = await check_expectations(
        (expectation,), reader, since=SINCE, recovered_after=None, now=SINCE + seconds
    )
    return result


# -- retries_within_budget ---------------------------------------------------


def test_the_budget_is_the_kits_own_window_and_floor() -> None:
    kit = DependencySettings(name="catalog", base_url="http://x")
    assert BUDGET_WINDOW_S == kit.retry_budget_window_s
    # the floor's token bucket, full at a window's start, then accruing through it
    bucket = max(1.0, kit.retry_budget_min_per_s)
    assert BUDGET_FLOOR == kit.retry_budget_min_per_s * kit.retry_budget_window_s + bucket


async def test_retries_within_budget_is_not_met_when_no_call_reached_a_dependency() -> None:
    reader = reader_of(60, {key(RETRIES): lambda t: 0.0, key(FIRST_TRIES): lambda t: 0.0})

    result = await judge(reader, RetriesWithinBudget("playback"), 60)

    assert not result.met
    assert "nothing to judge" in result.measured


async def test_retries_within_budget_without_any_series_is_no_data_not_met() -> None:
    reader = reader_of(60, {key(BREAKER): lambda t: 0.0})

    result = await judge(reader, RetriesWithinBudget("playback"), 60)

    assert not result.met
    assert "no data" in result.measured


async def test_steady_retries_under_the_budget_in_every_window_are_met() -> None:
    reader = reader_of(60, {key(RETRIES): lambda t: 3.0, key(FIRST_TRIES): lambda t: 40.0})

    result = await judge(reader, RetriesWithinBudget("playback"), 60)

    assert result.met, result.measured
    assert "30 retries to catalog in +0s..+10s for 400 first tries" in result.measured


async def test_a_storm_in_one_window_breaks_the_budget_however_quiet_the_rest_of_the_run() -> None:
    # 2 first tries a second: each 10 s window allows 0.1 x 40 (its first tries and
    # those of the window before) + the floor of 22 = 26 retries; one sends over 6x
    # that. Spread over ten minutes with the floor added once per second of the run,
    # it would look well within budget.
    storm = 7.5 * 22 / 10

    reader = reader_of(
        600,
        {
            key(RETRIES): lambda t: storm if 300 < t <= 310 else 0.0,
            key(FIRST_TRIES): lambda t: 2.0,
            key(CALLS, outcome="error"): lambda t: 2.0 + (storm if 300 < t <= 310 else 0.0),
        },
    )

    result = await judge(reader, RetriesWithinBudget("playback"), 600)

    assert not result.met
    assert "+300s..+310s" in result.measured  # the worst window is named
    assert "165 retries to catalog in +300s..+310s for 40 first tries" in result.measured


async def test_short_circuited_calls_and_retries_do_not_buy_more_retries() -> None:
    # the breaker refuses 100 calls a second; 1 a second reaches catalog and fails;
    # 3 retries a second are sent: over 0.1 x 20 + 22 = 24 a window.
    reader = reader_of(
        60,
        {
            key(RETRIES): lambda t: 3.0,
            key(FIRST_TRIES): lambda t: 1.0,
            key(CALLS, outcome="short_circuited"): lambda t: 100.0,
            key(CALLS, outcome="error"): lambda t: 4.0,
        },
    )

    result = await judge(reader, RetriesWithinBudget("playback"), 60)

    assert not result.met
    assert "30 retries to catalog in +0s..+10s for 10 first tries" in result.measured


async def test_retries_granted_against_the_first_tries_before_the_window_are_within_budget() -> (
    None
):
    # 40 first tries a second reach catalog until its breaker opens at +10s; then 2 a
    # second. The kit's window slides: in +10s..+20s it still grants 10% of the 400
    # first tries of the 10 s before, so 40 retries there are within its budget.
    reader = reader_of(
        30,
        {
            key(RETRIES): lambda t: 4.0 if 10 < t <= 20 else 0.0,
            key(FIRST_TRIES): lambda t: 40.0 if t <= 10 else 2.0,
        },
    )

    result = await judge(reader, RetriesWithinBudget("playback"), 30)

    assert result.met, result.measured


# -- breakers and fallbacks --------------------------------------------------


async def test_breaker_opened_without_its_series_is_no_data_not_met() -> None:
    reader = reader_of(30, {key(FIRST_TRIES): lambda t: 1.0})

    result = await judge(reader, BreakerOpened(Edge("playback", "catalog")), 30)

    assert not result.met
    assert "no data" in result.measured


async def test_breaker_opened_is_met_by_a_breaker_that_opened_and_closed_again() -> None:
    reader = reader_of(30, {key(BREAKER): lambda t: 1.0 if 5 <= t < 8 else 0.0})

    result = await judge(reader, BreakerOpened(Edge("playback", "catalog")), 30)

    assert result.met, result.measured


async def test_breaker_closed_without_its_series_is_no_data_not_met() -> None:
    reader = reader_of(30, {key(FIRST_TRIES): lambda t: 1.0})

    result = await judge(reader, BreakerClosed(Edge("playback", "catalog")), 30)

    assert not result.met
    assert "no data" in result.measured


async def test_breaker_closed_is_not_met_while_it_is_still_half_open() -> None:
    reader = reader_of(30, {key(BREAKER): lambda t: 2.0 if t >= 28 else 0.0})

    result = await judge(reader, BreakerClosed(Edge("playback", "catalog")), 30)

    assert not result.met


async def test_bulkhead_refused_is_met_by_calls_the_bulkhead_refused() -> None:
    refused = key(CALLS, outcome="rejected")
    reader = reader_of(
        30, {refused: lambda t: 3.0 if 10 <= t < 14 else 0.0, key(CALLS): lambda t: 5.0}
    )

    result = await judge(reader, BulkheadRefused(Edge("playback", "catalog")), 30)

    assert result.met, result.measured
    assert result.measured == "12 calls refused by the bulkhead on playback -> catalog"


async def test_bulkhead_refused_is_not_met_when_every_call_got_through() -> None:
    # a caller without a bulkhead (or one never full): its rejected series stays at 0
    refused = key(CALLS, outcome="rejected")
    reader = reader_of(30, {refused: lambda t: 0.0, key(CALLS, outcome="timeout"): lambda t: 9.0})

    result = await judge(reader, BulkheadRefused(Edge("playback", "catalog")), 30)

    assert not result.met
    assert result.measured == "0 calls refused by the bulkhead on playback -> catalog"


async def test_bulkhead_refused_without_its_series_is_no_data_not_met() -> None:
    reader = reader_of(30, {key(FIRST_TRIES): lambda t: 1.0})

    result = await judge(reader, BulkheadRefused(Edge("playback", "catalog")), 30)

    assert not result.met
    assert "no data" in result.measured


async def test_fallback_served_is_not_met_when_its_counter_never_moved() -> None:
    served = key("chaosbed_fallbacks_total", fallback="cached_title", result="served")
    reader = reader_of(30, {served: lambda t: 0.0})

    result = await judge(reader, FallbackServed("playback", "cached_title"), 30)

    assert not result.met
    assert result.measured == "0 fallback answers served"


async def test_fallback_served_without_its_series_is_no_data_not_met() -> None:
    reader = reader_of(30, {key(FIRST_TRIES): lambda t: 1.0})

    result = await judge(reader, FallbackServed("playback", "cached_title"), 30)

    assert not result.met
    assert "no data" in result.measured


async def test_a_storm_in_the_first_minute_of_an_hour_long_run_is_still_judged() -> None:
    seconds = 3700
    reader = reader_of(
        seconds,
        {
            key(RETRIES): lambda t: 20.0 if 30 < t <= 40 else 0.0,
            key(FIRST_TRIES): lambda t: 2.0,
        },
    )

    result = await judge(reader, RetriesWithinBudget("playback"), seconds)

    assert not result.met
    assert "+30s..+40s" in result.measured
