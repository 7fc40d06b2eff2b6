"""The workload's devices: each has a type, sent on every request and recorded on every op."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from chaos.history.workload import Workload, WorkloadSpec
from chaos.load import DEVICE_TYPES, device_type_of
from services.vocabulary.homes import REGIONS, home_region
from tests.waiting import until

SEEN = web.AppKey("seen", list)


async def _answer(request: web.Request) -> web.Response:
    """A replica that accepts everything: version 1, the preferences sent (or none)."""
    request.app[SEEN].append(dict(request.headers))
    body = await request.json() if request.can_read_body else {}
    prefs = body.get("changes", body) if isinstance(body, dict) else {}
    return web.json_response({"version": 1, "preferences": prefs})


@pytest.fixture
async def replica() -> AsyncIterator[TestServer]:
    app = web.Application()
    app[SEEN] = []
    app.router.add_get("/profiles/{member}", _answer)
    app.router.add_patch("/profiles/{member}", _answer)
    app.router.add_post("/profiles/{member}/sync", _answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def _run(replica: TestServer, ops: int) -> Workload:
    url = str(replica.make_url("")).rstrip("/")
    workload = Workload({"profiles": url}, WorkloadSpec(seed=5, pause_s=0.0))
    running = asyncio.create_task(workload.run())
    await until(lambda: len(replica.app[SEEN]) >= ops, what=f"{ops} requests seen")
    workload.stop()
    await running
    return workload


async def test_every_request_carries_the_device_type_of_its_device(replica: TestServer) -> None:
    workload = await _run(replica, 60)
    kinds = [headers["X-Chaosbed-Device-Type"] for headers in replica.app[SEEN]]
    assert len(kinds) >= 60 and set(kinds) <= set(DEVICE_TYPES)
    assert sorted(kinds) == sorted(op.device_type for op in workload.ops)


async def test_every_op_records_the_type_of_its_device(replica: TestServer) -> None:
    workload = await _run(replica, 30)
    assert all(op.device_type == device_type_of(op.device) for op in workload.ops)


def test_the_default_devices_include_every_device_type() -> None:
    devices = [f"d{i}" for i in range(WorkloadSpec().devices)]
    assert {device_type_of(d) for d in devices} == set(DEVICE_TYPES)


@pytest.mark.parametrize("seed", range(40))
def test_every_region_is_home_to_a_member_whatever_the_seed(seed: int) -> None:
    """A run whose members all lived in one region met no fault between the others."""
    members = Workload({"profiles": "http://127.0.0.1:1"}, WorkloadSpec(seed=seed)).members
    assert len(set(members)) == 4
    assert {home_region(member) for member in members} == set(REGIONS)
    assert [home_region(member) for member in members] == [*REGIONS, REGIONS[0]]
