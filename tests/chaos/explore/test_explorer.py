"""An execution whose planned fault met no try of its site is sent again, a
bounded number of times, before it is reported as testing nothing.

The entry service here is a real aiohttp app on loopback that reads the
signed plan with the kit's reader and answers the homepage journey with a
call tree in the kit's record format. Under load a hop above the planned
site can time out before any try of the site is made; this app does that
for the first `unreached` requests of each planned fault.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from chaos.explore import DEFAULT_CONTRACT
from chaos.explore.contract import load_contract
from chaos.explore.explorer import RESENDS, Execution, explore
from services.common.fault_plans import CALLS_HEADER, PLAN_HEADER, CallRecord, read_plan

TOKEN = "t" * 32
UPPER = ("recommendations", "profiles", "GET", "/profiles/{member}")
DEEP = ("profiles", "profiles-eu", "GET", "/profiles/{member}")


class Entry:
    """Recommendations as the explorer sees it: one hop to profiles, one below it."""

    def __init__(self, unreached: int) -> None:
        self.unreached = unreached
        self.sends: Counter[tuple[str, int | None]] = Counter()  # per fault planned deep

    def record(self, site: tuple[str, str, str, str], **fields: Any) -> dict[str, Any]:
        service, dependency, method, route = site
        return CallRecord(service, dependency, method, route, attempt=1, **fields).to_json()

    async def handle(self, request: web.Request) -> web.Response:
        plan, result = read_plan(request.headers.get(PLAN_HEADER, ""), TOKEN)
        assert plan is not None, result
        deep = plan.fault_for("profiles", "profiles-eu", DEEP[3], "GET", 1)
        upper = plan.fault_for(*UPPER[:2], UPPER[3], "GET", 1)
        if upper is not None:
            tree = [self.record(UPPER, outcome="failed", fault=upper.fault)]
        elif deep is not None:
            self.sends[deep.fault, deep.attempt] += 1
            sends = self.sends[deep.fault, deep.attempt]
            if sends <= self.unreached:  # the hop above gave up first
                tree = [self.record(UPPER, outcome="timeout")]
            else:
                below = self.record(DEEP, outcome="failed", fault=deep.fault)
                tree = [self.record(UPPER, outcome="ok", calls=[below])]
        else:
            tree = [self.record(UPPER, outcome="ok", calls=[self.record(DEEP, outcome="ok")])]
        headers = {CALLS_HEADER: json.dumps(tree)}
        return web.json_response({"member": "m", "rows": []}, headers=headers)


async def popular(_: web.Request) -> web.Response:
    return web.json_response({"titles": [{"id": 3, "maturity_rating": "all"}]})


async def explored(entry: Entry) -> list[Execution]:
    """The executions planning a fault on the deep site (profiles -> profiles-eu)."""
    app = web.Application()
    app.router.add_get("/recommendations/{member}", entry.handle)
    app.router.add_get("/popular", popular)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("")).rstrip("/")
        urls = {"recommendations": url, "catalog": url}
        contract = load_contract(DEFAULT_CONTRACT)
        _, executions = await explore(urls, TOKEN, contract, ["homepage"], {})
    finally:
        await server.close()
    return [e for e in executions if e.site is not None and e.site.service == "profiles"]


@pytest.mark.parametrize("unreached", [1, RESENDS])
async def test_an_unreached_site_is_sent_again_and_judged_on_the_send_that_reached_it(
    unreached: int,
) -> None:
    entry = Entry(unreached)
    deep = await explored(entry)
    assert len(deep) == len(entry.sends) > 8, "not every fault was planned on the deep site"
    for execution in deep:
        assert len(execution.unmet) == unreached, execution.name
        assert not any("nothing tested" in v for v in execution.violations), execution.violations
        assert execution.request_id not in execution.unmet
        assert execution.to_json()["unmet_sends"] == execution.unmet
    assert set(entry.sends.values()) == {unreached + 1}  # each fault: every send counted


async def test_a_site_still_unreached_after_the_resends_tested_nothing() -> None:
    entry = Entry(unreached=RESENDS + 5)
    deep = await explored(entry)
    assert len(deep) == len(entry.sends) > 8
    for execution in deep:
        sends = RESENDS + 1
        assert f"met no try of {execution.site} in {sends} sends: nothing tested" in " ".join(
            execution.violations
        ), execution.violations
        assert len(execution.unmet) == RESENDS
    assert set(entry.sends.values()) == {RESENDS + 1}  # bounded: no more sends than that
