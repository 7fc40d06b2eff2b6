"""The guard: a burn over the threshold, a paging alert or a blind Prometheus halts
the monkey; it resumes only after the stated time of calm in a row; each reading
is read from Prometheus' HTTP API and its failures are the reading's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web

from chaos.monkey.guardrails import ALERTS_QUERY, Guard, GuardReading, GuardSettings, read_guard

SETTINGS = GuardSettings(max_burn=10.0, budget_window_s=20.0, recover_for_s=5.0)
CALM = GuardReading(burns={"catalog": 0.5, "profiles": 0.0})


def test_a_burn_over_the_threshold_halts_and_says_which_service_and_how_fast() -> None:
    guard = Guard(SETTINGS)
    assert guard.observe(0.0, CALM) is None and not guard.halted
    burning = GuardReading(burns={"catalog": 12.25, "profiles": 9.9})
    assert guard.observe(1.0, burning) == "halt"
    assert guard.reasons == ["catalog burns its error budget 12.2x over 20s (at most 10x)"]
    assert guard.observe(2.0, burning) is None and guard.halted  # one halt, not one a second


def test_exactly_the_threshold_is_tolerated() -> None:
    assert Guard(SETTINGS).observe(0.0, GuardReading(burns={"catalog": 10.0})) is None


def test_it_resumes_only_after_the_calm_lasted_the_stated_time_in_a_row() -> None:
    guard = Guard(SETTINGS)
    guard.observe(0.0, GuardReading(alerts=("ChaosbedErrorBudgetBurnFast catalog",)))
    assert guard.reasons == ["alert ChaosbedErrorBudgetBurnFast catalog is firing"]
    assert guard.observe(1.0, CALM) is None
    assert guard.observe(5.9, CALM) is None and guard.clear_for(5.9) == pytest.approx(4.9)
    # a relapse restarts the count
    assert guard.observe(6.0, GuardReading(burns={"catalog": 11.0})) is None
    assert guard.observe(7.0, CALM) is None
    assert guard.observe(11.9, CALM) is None and guard.halted
    assert guard.observe(12.0, CALM) == "resume"
    assert not guard.halted and guard.reasons == []


def test_a_guard_that_cannot_read_prometheus_halts() -> None:
    guard = Guard(SETTINGS)
    assert guard.observe(0.0, GuardReading(error="http://x did not answer")) == "halt"
    assert guard.reasons == ["the guard cannot read Prometheus: http://x did not answer"]


def test_the_burn_query_is_each_services_failed_share_over_the_allowed_share() -> None:
    query = SETTINGS.burn_query()
    assert "[20000ms]" in query and query.endswith("/ 0.005")
    assert 'status=~"5..|dropped"' in query and "sum by (service)" in query
    with pytest.raises(ValueError, match="--max-burn"):
        GuardSettings(max_burn=0)
    with pytest.raises(ValueError, match="--budget-window"):
        GuardSettings(budget_window_s=0.5)


@pytest.fixture
async def prometheus_api(
    free_port: Callable[[], int],
) -> AsyncIterator[tuple[str, dict[str, object]]]:
    """Prometheus' query API on loopback, answering what the test puts in `answers`."""
    answers: dict[str, object] = {}

    async def query(request: web.Request) -> web.Response:
        answer = answers["alerts" if request.query["query"] == ALERTS_QUERY else "burns"]
        if isinstance(answer, int):
            return web.json_response({"status": "error", "error": "bad query"}, status=answer)
        return web.json_response({"status": "success",
                                  "data": {"resultType": "vector", "result": answer}})  # fmt: skip

    app = web.Application()
    app.router.add_get("/api/v1/query", query)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", answers
    await runner.cleanup()


async def test_a_reading_names_each_services_burn_and_each_firing_alert(
    prometheus_api: tuple[str, dict[str, object]],
) -> None:
    url, answers = prometheus_api
    answers["burns"] = [
        {"metric": {"service": "catalog"}, "value": [0, "16.5"]},
        {"metric": {"service": "playback"}, "value": [0, "NaN"]},  # no traffic: left out
    ]
    answers["alerts"] = [{"metric": {"alertname": "ChaosbedTargetDown", "job": "x"},
                          "value": [0, "1"]}]  # fmt: skip
    async with aiohttp.ClientSession() as session:
        reading = await read_guard(session, url, SETTINGS)
    assert reading.burns == {"catalog": 16.5}
    assert reading.alerts == ("ChaosbedTargetDown",)
    assert reading.error == ""


async def test_a_guard_without_alerts_halts_on_the_burn_alone(
    prometheus_api: tuple[str, dict[str, object]],
) -> None:
    """`alerts: false`: an alert still firing from an earlier incident does not halt it."""
    url, answers = prometheus_api
    answers["burns"] = [{"metric": {"service": "catalog"}, "value": [0, "0.5"]}]
    answers["alerts"] = [{"metric": {"alertname": "ChaosbedErrorBudgetBurnFast",
                                     "service": "playback"}, "value": [0, "1"]}]  # fmt: skip
    async with aiohttp.ClientSession() as session:
        with_alerts = await read_guard(session, url, SETTINGS)
        burn_alone = await read_guard(session, url, replace(SETTINGS, alerts=False))
    assert with_alerts.alerts == ("ChaosbedErrorBudgetBurnFast playback",)
    assert (burn_alone.alerts, burn_alone.burns) == ((), {"catalog": 0.5})
    assert with_alerts.reasons(SETTINGS) and not burn_alone.reasons(SETTINGS)


async def test_an_error_answer_or_no_answer_is_a_blind_reading(
    prometheus_api: tuple[str, dict[str, object]], free_port: Callable[[], int]
) -> None:
    url, answers = prometheus_api
    answers["burns"], answers["alerts"] = 400, []
    async with aiohttp.ClientSession() as session:
        refused = await read_guard(session, url, SETTINGS)
        silent = await read_guard(session, f"http://127.0.0.1:{free_port()}", SETTINGS)
    assert "answered HTTP 400: bad query" in refused.error
    assert "did not answer" in silent.error
    assert Guard(SETTINGS).observe(0.0, silent) == "halt"


async def test_no_traffic_anywhere_is_a_blind_reading_not_a_burn_of_zero(
    prometheus_api: tuple[str, dict[str, object]],
) -> None:
    url, answers = prometheus_api
    answers["alerts"] = []
    async with aiohttp.ClientSession() as session:
        for burns in ([], [{"metric": {"service": "catalog"}, "value": [0, "NaN"]}]):
            answers["burns"] = burns
            reading = await read_guard(session, url, SETTINGS)
            assert "no service served a request in the last 20s" in reading.error
            assert Guard(SETTINGS).observe(0.0, reading) == "halt"
