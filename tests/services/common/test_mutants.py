"""Named regressions (mutants): accepted by name, refused when unknown, off by default,
and each kit mutant a real code path: what reaches a fake dependency changes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import (
    BulkheadFull,
    CircuitOpen,
    DeadlineExceeded,
    DependencyHTTPError,
    DependencyTimeout,
    RetryBudgetExhausted,
    ServiceSettings,
    SettingsError,
    create_service_app,
    mutants,
)
from services.common.context import DEADLINE_HEADER, RequestContext, bound
from tests.waiting import until


@pytest.fixture(autouse=True)
def no_mutant_left_on() -> Iterator[None]:
    yield
    mutants.switch_on(None)


# -- the names ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(mutants.MUTANTS))
def test_every_named_mutant_is_accepted_from_the_environment(name: str) -> None:
    settings = ServiceSettings.from_env("svc", 1, {"CHAOSBED_MUTANT": name})

    assert settings.mutant == name


def test_no_mutant_is_on_by_default() -> None:
    assert ServiceSettings.from_env("svc", 1, {}).mutant is None
    assert ServiceSettings.from_env("svc", 1, {"CHAOSBED_MUTANT": " "}).mutant is None


def test_an_unknown_mutant_is_refused_naming_the_variable_and_the_known_names() -> None:
    with pytest.raises(SettingsError) as refused:
        ServiceSettings.from_env("svc", 1, {"CHAOSBED_MUTANT": "no-retrys"})

    message = str(refused.value)
    assert "CHAOSBED_MUTANT='no-retrys'" in message
    assert all(name in message for name in mutants.MUTANTS)


@given(st.text(max_size=30).filter(lambda s: s.strip() and s.strip() not in mutants.MUTANTS))
def test_any_other_name_is_refused(name: str) -> None:
    with pytest.raises(SettingsError):
        ServiceSettings.from_env("svc", 1, {"CHAOSBED_MUTANT": name})


def test_asking_whether_an_unknown_mutant_is_active_is_an_error_not_false() -> None:
    with pytest.raises(mutants.UnknownMutant):
        mutants.active("no-retrys")


def test_there_are_at_least_twelve_mutants_each_breaking_its_own_mechanism() -> None:
    assert len(mutants.MUTANTS) >= 12
    assert len(set(mutants.MECHANISMS)) == len(mutants.MUTANTS)


def test_building_a_service_with_a_mutant_switches_it_on_and_says_so_loudly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        create_service_app(ServiceSettings("svc", 0, mutant="no-retries"))

    assert mutants.active("no-retries")
    assert any("MUTANT no-retries IS ON in svc" in r.getMessage() for r in caplog.records)


def test_building_a_service_without_a_mutant_switches_any_previous_one_off() -> None:
    mutants.switch_on("no-retries")

    create_service_app(ServiceSettings("svc", 0))

    assert mutants.switched_on() is None


# -- each kit mutant changes what reaches the dependency -----------------------


@pytest.mark.parametrize(("mutant", "hits"), [(None, 3), ("no-retries", 1)])
async def test_no_retries_sends_a_failed_get_once(
    make_caller: Any, upstream: Any, mutant: str | None, hits: int
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=3, mutant=mutant)

    with pytest.raises(DependencyHTTPError):
        await caller.dep().get("/titles/1")

    assert upstream.hits == hits


@pytest.mark.parametrize(("mutant", "hits"), [(None, 1), ("retry-non-idempotent", 3)])
async def test_retry_non_idempotent_sends_a_failed_post_again(
    make_caller: Any, upstream: Any, mutant: str | None, hits: int
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=3, mutant=mutant)

    with pytest.raises(DependencyHTTPError):
        await caller.dep().request("POST", "/starts", json={"n": 1})

    assert upstream.hits == hits


@pytest.mark.parametrize(("mutant", "hits"), [(None, 5), ("breaker-never-opens", 12)])
async def test_breaker_never_opens_lets_every_call_reach_a_failing_dependency(
    make_caller: Any, upstream: Any, mutant: str | None, hits: int
) -> None:
    upstream.status = 503
    caller = await make_caller(upstream.url, attempts=1, breaker_fail_max=5, mutant=mutant)

    for _ in range(12):
        with pytest.raises((DependencyHTTPError, CircuitOpen)):
            await caller.dep().get("/titles/1")

    assert upstream.hits == hits


@pytest.mark.parametrize(
    ("mutant", "error", "at_least_s", "under_s"),
    [(None, DependencyTimeout, 0.0, 0.5), ("no-per-try-timeout", DeadlineExceeded, 0.9, 3.0)],
)
async def test_without_a_per_try_timeout_a_hung_call_waits_out_the_deadline(
    make_caller: Any,
    upstream: Any,
    mutant: str | None,
    error: type[Exception],
    at_least_s: float,
    under_s: float,
) -> None:
    upstream.hold()
    caller = await make_caller(upstream.url, attempts=1, timeout_s=0.1, mutant=mutant)
    started = time.monotonic()

    with bound(RequestContext("r1", "none", time.monotonic() + 1.0)), pytest.raises(error):
        await caller.dep().get("/titles/1")

    assert at_least_s <= time.monotonic() - started < under_s


@pytest.mark.parametrize(("mutant", "hits"), [(None, 6), ("no-retry-budget", 10)])
async def test_without_the_retry_budget_every_failed_try_is_retried(
    make_caller: Any, upstream: Any, mutant: str | None, hits: int
) -> None:
    upstream.status = 503
    caller = await make_caller(
        upstream.url, attempts=2, retry_budget_min_per_s=0.1, mutant=mutant
    )  # a window of 10 s allows one retry

    for _ in range(5):
        with pytest.raises((DependencyHTTPError, RetryBudgetExhausted)):
            await caller.dep().get("/titles/1")

    assert upstream.hits == hits


@pytest.mark.parametrize(("mutant", "hits"), [(None, 1), ("no-bulkhead", 3)])
async def test_without_the_bulkhead_calls_over_its_size_reach_the_dependency(
    make_caller: Any, upstream: Any, mutant: str | None, hits: int
) -> None:
    upstream.hold()
    caller = await make_caller(upstream.url, attempts=1, bulkhead_size=1, mutant=mutant)
    calls = [asyncio.create_task(caller.dep().get(f"/titles/{n}")) for n in range(3)]
    await until(lambda: upstream.hits + sum(c.done() for c in calls) == 3)  # arrived or refused

    assert upstream.hits == hits
    upstream.release()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert sum(isinstance(o, BulkheadFull) for o in outcomes) == 3 - hits


@pytest.mark.parametrize(("mutant", "forwarded"), [(None, True), ("deadline-not-forwarded", False)])
async def test_deadline_not_forwarded_drops_the_deadline_header(
    make_caller: Any, upstream: Any, mutant: str | None, forwarded: bool
) -> None:
    caller = await make_caller(upstream.url, mutant=mutant)

    with bound(RequestContext("r1", "none", time.monotonic() + 1.0)):
        await caller.dep().get("/titles/1")

    assert (DEADLINE_HEADER in upstream.requests[0]["headers"]) is forwarded
