"""Every fault rule counts the requests it acted on: in the control API's
listing (`matched`) and as ``chaosbed_fault_rule_matches_total{kind, side}``,
so a runner can tell a fault that bit from one that matched nothing."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pytest_aiohttp import AiohttpClient

from services.common import DEPENDENCIES, FaultRegistry, parse_rule
from services.common.context import COHORT_HEADER
from services.common.metrics import FAULT_KINDS, FAULT_SIDES

from .conftest import CALLER, UPSTREAM, Caller, MakeCaller, Upstream

Client = TestClient[Any, Any]

MATCHES = "chaosbed_fault_rule_matches_total"


def routes(app: web.Application) -> None:
    async def popular(request: web.Request) -> web.Response:
        return web.json_response({"titles": []})

    async def via_upstream(request: web.Request) -> web.Response:
        try:
            await request.app[DEPENDENCIES][UPSTREAM].get("/x")
        except Exception:  # noqa: BLE001 - the injected failure is what this route shows
            return web.json_response({"fallback": True})
        return web.json_response({"fallback": False})

    app.router.add_get("/popular", popular)
    app.router.add_get("/via", via_upstream)


@pytest.fixture
async def caller(make_caller: MakeCaller, upstream: Upstream) -> Caller:
    return await make_caller(upstream.url, routes=routes, attempts=1)


@pytest.fixture
async def client(caller: Caller, aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(caller.server)


async def add(client: Client, headers: dict[str, str], **body: Any) -> str:
    resp = await client.post("/_chaos/faults", json=body, headers=headers)
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    assert created["matched"] == 0
    return str(created["id"])


async def matched(client: Client, headers: dict[str, str]) -> dict[str, int]:
    listed = await (await client.get("/_chaos/faults", headers=headers)).json()
    return {r["id"]: r["matched"] for r in listed["faults"]}


async def test_a_listed_rule_shows_the_requests_it_acted_on(
    client: Client, control_headers: dict[str, str]
) -> None:
    rule = await add(client, control_headers, kind="error", route="/popular", status=500)

    for _ in range(3):
        assert (await client.get("/popular")).status == 500

    assert await matched(client, control_headers) == {rule: 3}


async def test_a_rule_at_zero_percent_matches_nothing(
    client: Client, control_headers: dict[str, str]
) -> None:
    rule = await add(client, control_headers, kind="error", route="/popular", percent=0)

    for _ in range(5):
        assert (await client.get("/popular")).status == 200

    assert await matched(client, control_headers) == {rule: 0}


async def test_a_rule_for_a_cohort_that_sends_nothing_matches_nothing(
    client: Client, control_headers: dict[str, str]
) -> None:
    rule = await add(client, control_headers, kind="error", route="/popular", cohort="experiment")

    for _ in range(3):
        assert (await client.get("/popular", headers={COHORT_HEADER: "control"})).status == 200

    assert await matched(client, control_headers) == {rule: 0}


async def test_an_edge_rule_counts_the_calls_it_acted_on(
    client: Client, control_headers: dict[str, str], upstream: Upstream
) -> None:
    rule = await add(client, control_headers, kind="drop", edge=f"{CALLER} -> {UPSTREAM}")

    for _ in range(2):
        assert (await (await client.get("/via")).json()) == {"fallback": True}

    assert await matched(client, control_headers) == {rule: 2}
    assert upstream.hits == 0


async def test_only_the_rule_that_acted_counts_a_request(
    client: Client, control_headers: dict[str, str]
) -> None:
    first = await add(client, control_headers, kind="error", route="/popular", status=500)
    second = await add(client, control_headers, kind="error", route="*", status=502)

    assert (await client.get("/popular")).status == 500

    assert await matched(client, control_headers) == {first: 1, second: 0}


async def scrape(client: Client) -> dict[tuple[str, str], float]:
    text = await (await client.get("/metrics")).text()
    return {
        (s.labels["kind"], s.labels["side"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == MATCHES and s.labels["service"] == CALLER
    }


async def test_the_match_counter_exists_at_zero_for_every_kind_and_side(client: Client) -> None:
    assert await scrape(client) == {(k, s): 0.0 for k in FAULT_KINDS for s in FAULT_SIDES}


async def test_the_match_counter_counts_by_kind_and_side(
    client: Client, control_headers: dict[str, str]
) -> None:
    await add(client, control_headers, kind="error", route="/popular", status=500)
    await add(client, control_headers, kind="drop", edge=f"{CALLER} -> {UPSTREAM}")

    await client.get("/popular")
    await client.get("/popular")
    await client.get("/via")

    counts = await scrape(client)
    assert counts[("error", "server")] == 2
    assert counts[("drop", "client")] == 1
    assert sum(counts.values()) == 3


def test_a_removed_rule_takes_its_count_with_it(seeded_faults: FaultRegistry) -> None:
    rule = parse_rule(
        {"kind": "error", "route": "*"}, service=CALLER, dependencies=(), routes=(), now=1000.0
    )
    seeded_faults.add(rule)
    assert seeded_faults.match_route("/x", "GET", "none") is rule
    assert seeded_faults.matched(rule.id) == 1

    seeded_faults.remove(rule.id)

    assert seeded_faults.matched(rule.id) == 0
