"""The nesting rule for per-try timeouts (timeouts.py): a call's tries and
their backoff fit inside the deadline it was given, and each try sends its
callee less than it waits for it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.common import DependencySettings
from services.common.timeouts import (
    backoff_reserve_s,
    call_plan_s,
    margin_s,
    retry_fits,
    try_timeout,
)


def settings(**overrides: float) -> DependencySettings:
    return DependencySettings(name="up", base_url="http://127.0.0.1:1", **overrides)  # type: ignore[arg-type]


@given(
    remaining=st.floats(min_value=0.001, max_value=60.0),
    timeout_s=st.floats(min_value=0.001, max_value=10.0),
    attempts=st.integers(min_value=1, max_value=6),
    backoff_s=st.floats(min_value=0.0, max_value=0.5),
)
def test_a_calls_tries_and_backoff_fit_inside_the_deadline_it_was_given(
    remaining: float, timeout_s: float, attempts: int, backoff_s: float
) -> None:
    config = settings(
        timeout_s=timeout_s, attempts=attempts, backoff_s=backoff_s, backoff_max_s=backoff_s * 4
    )
    left = remaining
    for attempt in range(1, attempts + 1):
        timer = try_timeout(config, left, attempt, attempts, budget_s=remaining)
        assert 0 <= timer.sent_s < timer.seconds or timer.seconds == 0
        assert timer.seconds <= config.timeout_s
        left -= timer.seconds  # every try times out
        if attempt < attempts:
            wait = backoff_reserve_s(config, attempt, attempt + 1)  # the longest wait
            if not retry_fits(config, left, wait, budget_s=remaining):
                break
            left -= wait
    # the margin of the whole budget is still there for the answer to travel
    # (not a tenth of what the last try had left: a stalled loop eats that)
    assert left >= margin_s(remaining) - 1e-9


def test_the_first_hop_with_the_default_budget_keeps_its_full_per_try_timeout() -> None:
    timer = try_timeout(settings(), 2.0, 1, 3)

    assert timer.seconds == 0.5
    assert timer.judges


def test_a_hop_given_one_try_of_its_caller_splits_it_among_its_own_tries() -> None:
    caller = try_timeout(settings(), 2.0, 1, 3)
    callee = settings()

    first = try_timeout(callee, caller.sent_s, 1, 3)

    assert callee.attempts * first.seconds + backoff_reserve_s(callee, 1, 3) <= caller.sent_s
    assert first.judges  # long enough to judge the dependency: a hang counts as a timeout


def test_a_try_cut_below_the_judging_floor_by_the_deadline_is_neutral() -> None:
    timer = try_timeout(settings(), 0.03, 1, 3)

    assert timer.seconds < settings().min_try_s
    assert not timer.judges


def test_the_call_plan_is_attempts_per_try_timeouts_and_the_longest_backoff() -> None:
    config = settings(timeout_s=0.5, attempts=3, backoff_s=0.05, backoff_max_s=0.5)

    assert call_plan_s(config) == 3 * 0.5 + (0.05 + 0.05) + (0.1 + 0.05)
