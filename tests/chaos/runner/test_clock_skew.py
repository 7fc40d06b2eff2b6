"""How far the clock of a Prometheus that members' metrics are pushed to is from
this machine's: against the real Prometheus, and against stand-ins telling another
time or none."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from chaos.faults.control_client import ControlApiError
from chaos.runner.wiring import clock_skew
from tests.chaos.load.test_remote_write import prometheus  # noqa: F401 - the fixture

__all__ = ["prometheus"]


def telling(answer: Callable[[], Any]) -> web.Application:
    async def query(request: web.Request) -> web.Response:
        assert request.query["query"] == "time()"
        return web.json_response(answer())

    app = web.Application()
    app.router.add_get("/api/v1/query", query)
    return app


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.prometheus
async def test_the_real_prometheus_on_this_machine_is_on_its_clock(
    prometheus: Any,  # noqa: F811
    session: aiohttp.ClientSession,
) -> None:
    assert abs(await clock_skew(prometheus.url, session)) < 0.5


@pytest.mark.parametrize("ahead", [5.0, -3.0])
async def test_a_clock_ahead_or_behind_is_told_with_its_sign(
    aiohttp_server: Any, session: aiohttp.ClientSession, ahead: float
) -> None:
    def answer() -> Any:
        now = time.time() + ahead
        return {"status": "success", "data": {"resultType": "scalar", "result": [now, str(now)]}}

    server = await aiohttp_server(telling(answer))

    assert await clock_skew(f"http://127.0.0.1:{server.port}", session) == pytest.approx(
        ahead, abs=0.5
    )


@pytest.mark.parametrize(
    "answer", [{}, {"data": {"result": []}}, {"data": {"result": [1, "soon"]}}, "text", None]
)
async def test_a_prometheus_that_does_not_tell_its_time_is_an_error_naming_it(
    aiohttp_server: Any, session: aiohttp.ClientSession, answer: Any
) -> None:
    server = await aiohttp_server(telling(lambda: answer))
    url = f"http://127.0.0.1:{server.port}"

    with pytest.raises(ControlApiError, match=f"the Prometheus at {url} did not tell its time"):
        await clock_skew(url, session)
