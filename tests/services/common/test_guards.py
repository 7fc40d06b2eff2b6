"""Unit tests of the two guards: the bulkhead and the retry budget (fake clock)."""

from __future__ import annotations

import pytest

from services.common.guards import Bulkhead, RetryBudget

from .conftest import FakeClock

# -- RetryBudget -------------------------------------------------------------


def spend_all(budget: RetryBudget, limit: int = 10_000) -> int:
    spent = 0
    while spent < limit and budget.try_spend():
        spent += 1
    return spent


def test_budget_floor_allows_one_seconds_worth_of_retries_at_once_without_traffic(
    clock: FakeClock,
) -> None:
    budget = RetryBudget(ratio=0.1, min_per_s=2.0, window_s=10.0, clock=clock)

    assert spend_all(budget) == 2


def test_budget_floor_of_two_per_second_cannot_be_spent_as_twenty_in_a_quarter_second(
    clock: FakeClock,
) -> None:
    budget = RetryBudget(ratio=0.1, min_per_s=2.0, window_s=10.0, clock=clock)
    spent = spend_all(budget)
    for _ in range(25):  # a quarter of a second, in steps of 10 ms
        clock.advance(0.01)
        spent += spend_all(budget)

    assert spent == 2  # the bucket's two, and half a token accrued since


def test_budget_floor_accrues_min_per_s_tokens_a_second(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.0, min_per_s=2.0, window_s=10.0, clock=clock)
    spend_all(budget)
    spent = 0
    for _ in range(1000):  # 10 s in steps of 10 ms
        clock.advance(0.01)
        spent += spend_all(budget)

    assert 19 <= spent <= 20  # 20 tokens accrue; float steps may leave the last at 0.999


def test_budget_allows_ratio_of_the_requests_in_the_window(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.1, min_per_s=0.1, window_s=10.0, clock=clock)
    for _ in range(500):
        budget.record_request()

    assert spend_all(budget) == 50


def test_budget_is_the_larger_of_floor_and_ratio(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.1, min_per_s=2.0, window_s=10.0, clock=clock)
    for _ in range(50):  # 10% of 50 is 5, above the floor's 2 at once
        budget.record_request()

    assert spend_all(budget) == 5


def test_budget_refuses_once_spent_until_the_floor_accrues_a_token(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.0, min_per_s=0.5, window_s=10.0, clock=clock)
    assert spend_all(budget) == 1  # the bucket holds at least one token

    clock.advance(1.9)
    assert not budget.try_spend()
    clock.advance(0.2)  # 0.5 tokens a second: one more after 2 s

    assert spend_all(budget) == 1


def test_budget_refuses_once_the_ratio_is_spent_until_the_window_slides(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.5, min_per_s=0.0, window_s=10.0, clock=clock)
    for _ in range(10):
        budget.record_request()
    assert spend_all(budget) == 5

    clock.advance(5.0)
    for _ in range(10):
        budget.record_request()
    assert spend_all(budget) == 5  # 20 requests and 5 retries in the window


def test_budget_forgets_requests_older_than_the_window(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.5, min_per_s=0.0, window_s=10.0, clock=clock)
    for _ in range(100):
        budget.record_request()
    clock.advance(10.5)
    budget.record_request()
    budget.record_request()

    assert spend_all(budget) == 1


def test_budget_with_no_floor_and_no_requests_allows_no_retry(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.1, min_per_s=0.0, window_s=10.0, clock=clock)

    assert not budget.try_spend()


def test_budget_caps_retries_of_a_busy_caller_at_the_ratio_over_time(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.1, min_per_s=0.5, window_s=10.0, clock=clock)
    retries = 0
    for _ in range(1000):  # 100 requests/s for 10 s, each wanting two retries
        clock.advance(0.01)
        budget.record_request()
        retries += budget.try_spend() + budget.try_spend()

    assert retries <= 0.1 * 1000 + 1
    assert retries >= 0.1 * 1000 - 1


# -- Bulkhead ----------------------------------------------------------------


def test_bulkhead_admits_up_to_its_size_then_refuses() -> None:
    bulkhead = Bulkhead(2)

    assert [bulkhead.try_enter() for _ in range(3)] == [True, True, False]
    assert bulkhead.in_flight == 2


def test_bulkhead_admits_again_when_a_call_leaves() -> None:
    bulkhead = Bulkhead(1)
    assert bulkhead.try_enter()
    bulkhead.leave()

    assert bulkhead.try_enter()


def test_bulkhead_slot_is_released_by_its_context_even_on_error() -> None:
    bulkhead = Bulkhead(1)
    assert bulkhead.try_enter()

    with pytest.raises(RuntimeError), bulkhead:
        raise RuntimeError("the call failed")

    assert bulkhead.in_flight == 0
    assert bulkhead.try_enter()


@pytest.mark.parametrize("size", [0, -1])
def test_bulkhead_size_must_be_at_least_one(size: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Bulkhead(size)
