"""Application-layer fault rules: validation, scope, TTL, and how each kind behaves.

Server-side rules are injected through the control API into a real service
app; client-side (edge) rules act on a Dependency call to a real upstream.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpClient

from services.common import (
    FAULTS,
    CircuitOpen,
    DependencyHTTPError,
    DependencySettings,
    DependencyTimeout,
    DependencyUnavailable,
    FaultRegistry,
    FaultRule,
    InvalidFaultRule,
    TooManyFaultRules,
    parse_rule,
)
from services.common.context import COHORT_HEADER, DEADLINE_HEADER, RequestContext, bound
from services.common.fault_rules import KINDS
from tests.waiting import until

from .conftest import Caller, FakeClock, MakeCaller, Upstream

Client = TestClient[Any, Any]
Inject = Callable[..., Awaitable[str]]

SERVICE = "caller"
DEPS = ("up", "other")
ROUTES = ("/titles/{id}", "/popular")
NOW = 1000.0
COHORTS = ("experiment", "control", "none")


def rule(now: float = NOW, **body: Any) -> FaultRule:
    return parse_rule(body, service=SERVICE, dependencies=DEPS, routes=ROUTES, now=now)


# -- validation --------------------------------------------------------------


def test_a_valid_rule_is_parsed_with_its_defaults() -> None:
    r = rule(kind="latency", route="/titles/{id}", delay_ms=200)

    assert (r.kind, r.route, r.edge, r.method) == ("latency", "/titles/{id}", None, None)
    assert (r.cohort, r.percent, r.delay_ms, r.jitter_ms) == ("any", 100.0, 200, 0)
    assert (r.ttl_s, r.expires_at) == (60.0, NOW + 60.0)


def test_an_edge_is_written_source_arrow_dependency() -> None:
    assert rule(kind="drop", edge="caller -> up").edge == "up"
    assert rule(kind="drop", edge="caller->other").edge == "other"


def test_an_error_rule_defaults_to_503() -> None:
    assert rule(kind="error", route="*").status == 503


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ("drop", "body"),
        ({}, "kind"),
        ({"kind": "explode", "route": "*"}, "kind"),
        ({"kind": "drop"}, "route"),
        ({"kind": "drop", "route": "*", "edge": "caller -> up"}, "route"),
        ({"kind": "drop", "route": "/nope"}, "route"),
        ({"kind": "drop", "route": ""}, "route"),
        ({"kind": "drop", "route": 7}, "route"),
        ({"kind": "drop", "edge": "caller -> nope"}, "edge"),
        ({"kind": "drop", "edge": "someone -> up"}, "edge"),
        ({"kind": "drop", "edge": "up"}, "edge"),
        ({"kind": "drop", "edge": "caller -> up", "method": "GET"}, "method"),
        ({"kind": "drop", "route": "*", "cohort": "everyone"}, "cohort"),
        ({"kind": "drop", "route": "*", "percent": 101}, "percent"),
        ({"kind": "drop", "route": "*", "percent": -1}, "percent"),
        ({"kind": "drop", "route": "*", "percent": "50"}, "percent"),
        ({"kind": "drop", "route": "*", "percent": True}, "percent"),
        ({"kind": "latency", "route": "*"}, "delay_ms"),
        ({"kind": "latency", "route": "*", "delay_ms": 10**9}, "delay_ms"),
        ({"kind": "latency", "route": "*", "delay_ms": 5, "jitter_ms": -1}, "jitter_ms"),
        ({"kind": "error", "route": "*", "status": 302}, "status"),
        ({"kind": "error", "route": "*", "status": 600}, "status"),
        ({"kind": "error", "route": "*", "status": "503"}, "status"),
        ({"kind": "drop", "route": "*", "ttl_s": 0}, "ttl_s"),
        ({"kind": "drop", "route": "*", "ttl_s": 7200}, "ttl_s"),
        ({"kind": "drop", "route": "*", "tag": ""}, "tag"),
        ({"kind": "drop", "route": "*", "tag": "t" * 129}, "tag"),
        ({"kind": "drop", "route": "*", "colour": "red"}, "colour"),
        ({"kind": "drop", "route": "*", "method": "BREW"}, "method"),
        ({"kind": "drop", "route": "*", "method": "get me"}, "method"),
        ({"kind": "latency", "route": "*", "delay_ms": 0.5}, "delay_ms"),
        ({"kind": "latency", "route": "*", "delay_ms": 10, "jitter_ms": 2.5}, "jitter_ms"),
        ({"kind": "error", "route": "*", "status": 503.5}, "status"),
        ({"kind": "drop", "route": "*", "delay_ms": 100}, "delay_ms"),
        ({"kind": "hang", "route": "*", "jitter_ms": 100}, "jitter_ms"),
        ({"kind": "latency", "route": "*", "delay_ms": 5, "status": 503}, "status"),
        ({"kind": "drop", "route": "*", "tag": "has space"}, "tag"),
        ({"kind": "drop", "route": "*", "tag": 7}, "tag"),
        ({"kind": "drop", "route": "*", "tag": " run-1"}, "tag"),
    ],
)
def test_an_invalid_rule_is_refused_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(InvalidFaultRule) as caught:
        parse_rule(body, service=SERVICE, dependencies=DEPS, routes=ROUTES, now=NOW)

    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_a_whole_number_written_as_a_float_is_accepted() -> None:
    assert rule(kind="latency", route="*", delay_ms=200.0).delay_ms == 200
    assert rule(kind="error", route="*", status=502.0).status == 502


def test_a_method_is_stored_upper_case() -> None:
    assert rule(kind="drop", route="/popular", method="patch").method == "PATCH"


@given(st.text(min_size=1, max_size=40))
def test_a_tag_is_accepted_exactly_as_given_or_refused_naming_the_tag(tag: str) -> None:
    try:
        parsed = rule(kind="drop", route="*", tag=tag)
    except InvalidFaultRule as exc:
        assert exc.field == "tag"
    else:
        assert parsed.tag == tag
        assert tag.isascii() and not any(c.isspace() for c in tag)


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
FIELD_VALUES = {
    "kind": st.sampled_from(list(KINDS)) | JSON_SCALARS,
    "route": st.sampled_from(["*", "/titles/{id}", "/popular", "/healthz"]) | JSON_SCALARS,
    "edge": st.sampled_from(["caller -> up", "caller -> other", "x -> up"]) | JSON_SCALARS,
    "method": st.sampled_from(["GET", "post"]) | JSON_SCALARS,
    "cohort": st.sampled_from(["experiment", "control", "any"]) | JSON_SCALARS,
    "percent": st.floats(-10, 110) | JSON_SCALARS,
    "delay_ms": st.integers(-10, 70_000) | JSON_SCALARS,
    "jitter_ms": st.integers(-10, 70_000) | JSON_SCALARS,
    "status": st.integers(0, 700) | JSON_SCALARS,
    "ttl_s": st.floats(-1, 4000) | JSON_SCALARS,
    "tag": st.text(max_size=200) | JSON_SCALARS,
}
RULE_BODIES = st.fixed_dictionaries(
    {}, optional={**FIELD_VALUES, "extra": JSON_SCALARS}
) | st.recursive(JSON_SCALARS, lambda c: st.lists(c) | st.dictionaries(st.text(), c), max_leaves=10)


@given(RULE_BODIES)
def test_parse_rule_either_accepts_or_names_a_field_for_any_json(body: Any) -> None:
    try:
        parsed = parse_rule(body, service=SERVICE, dependencies=DEPS, routes=ROUTES, now=NOW)
    except InvalidFaultRule as exc:
        assert exc.field in {*FIELD_VALUES, "body", "extra"} or exc.field in body
    else:
        assert parsed.kind in KINDS
        assert (parsed.route is None) != (parsed.edge is None)
        assert 0 < parsed.ttl_s <= 3600


# -- scope (the registry) ----------------------------------------------------


def test_a_route_rule_matches_its_route_only(seeded_faults: FaultRegistry) -> None:
    seeded_faults.add(rule(kind="drop", route="/titles/{id}"))

    assert seeded_faults.match_route("/titles/{id}", "GET", "none") is not None
    assert seeded_faults.match_route("/popular", "GET", "none") is None
    assert seeded_faults.match_edge("up", "none") is None


def test_a_wildcard_route_rule_matches_every_route(seeded_faults: FaultRegistry) -> None:
    seeded_faults.add(rule(kind="drop", route="*"))

    assert seeded_faults.match_route("/titles/{id}", "GET", "none") is not None
    assert seeded_faults.match_route("/popular", "POST", "none") is not None


def test_a_route_rule_with_a_method_matches_that_method_only(seeded_faults: FaultRegistry) -> None:
    seeded_faults.add(rule(kind="drop", route="/popular", method="post"))

    assert seeded_faults.match_route("/popular", "POST", "none") is not None
    assert seeded_faults.match_route("/popular", "GET", "none") is None


def test_an_edge_rule_matches_its_dependency_only(seeded_faults: FaultRegistry) -> None:
    seeded_faults.add(rule(kind="drop", edge="caller -> up"))

    assert seeded_faults.match_edge("up", "none") is not None
    assert seeded_faults.match_edge("other", "none") is None
    assert seeded_faults.match_route("/popular", "GET", "none") is None


@pytest.mark.parametrize(
    ("scope", "matched"),
    [
        ("experiment", {"experiment"}),
        ("control", {"control"}),
        ("any", {"experiment", "control", "none"}),
    ],
)
def test_a_cohort_scoped_rule_matches_only_its_cohort(
    seeded_faults: FaultRegistry, scope: str, matched: set[str]
) -> None:
    seeded_faults.add(rule(kind="drop", route="*", cohort=scope))
    seeded_faults.add(rule(kind="drop", edge="caller -> up", cohort=scope))

    on_routes = {c for c in COHORTS if seeded_faults.match_route("/popular", "GET", c)}
    on_edges = {c for c in COHORTS if seeded_faults.match_edge("up", c)}

    assert on_routes == on_edges == matched


@pytest.mark.parametrize("percent", [1, 25, 50, 90])
def test_a_percent_rule_matches_about_that_percent_of_requests(percent: int) -> None:
    faults = FaultRegistry(clock=lambda: NOW, rng=random.Random(percent))
    faults.add(rule(kind="drop", route="*", percent=percent))
    n = 4000

    hits = sum(faults.match_route("/popular", "GET", "none") is not None for _ in range(n))

    assert abs(hits / n * 100 - percent) < 2.5


def test_a_zero_percent_rule_never_matches(seeded_faults: FaultRegistry) -> None:
    seeded_faults.add(rule(kind="drop", route="*", percent=0))

    assert all(seeded_faults.match_route("/popular", "GET", "none") is None for _ in range(500))


def test_a_rule_expires_at_its_ttl(seeded_faults: FaultRegistry, clock: FakeClock) -> None:
    seeded_faults.add(rule(now=clock(), kind="drop", route="*", ttl_s=30))

    clock.advance(29.99)
    assert seeded_faults.match_route("/popular", "GET", "none") is not None
    clock.advance(0.01)
    assert seeded_faults.match_route("/popular", "GET", "none") is None
    assert seeded_faults.active() == []


def test_rules_are_removed_by_id_by_tag_and_all_at_once(seeded_faults: FaultRegistry) -> None:
    a = rule(kind="drop", route="*", tag="game-day")
    b = rule(kind="hang", route="*", tag="game-day")
    c = rule(kind="drop", edge="caller -> up")
    for r in (a, b, c):
        seeded_faults.add(r)

    assert seeded_faults.remove(c.id)
    assert not seeded_faults.remove(c.id)
    assert seeded_faults.clear("other-tag") == 0
    assert seeded_faults.clear("game-day") == 2
    assert seeded_faults.active() == []


def test_the_registry_reports_counts_per_kind_on_add_remove_and_expiry(clock: FakeClock) -> None:
    counts: list[dict[str, int]] = []
    faults = FaultRegistry(clock=clock, on_change=counts.append)
    short = rule(now=clock(), kind="latency", route="*", delay_ms=5, ttl_s=5)
    long = rule(now=clock(), kind="drop", route="*", ttl_s=50)

    faults.add(short)
    faults.add(long)
    clock.advance(5)
    faults.active()
    faults.remove(long.id)

    kinds = [{k: v for k, v in c.items() if v} for c in counts]
    assert kinds == [{"latency": 1}, {"latency": 1, "drop": 1}, {"drop": 1}, {}]


def test_the_default_caps_are_1000_rules_and_256_hung_requests() -> None:
    faults = FaultRegistry()

    assert (faults.max_rules, faults.max_hung) == (1000, 256)


def test_the_registry_refuses_a_rule_beyond_its_cap_until_one_expires(clock: FakeClock) -> None:
    faults = FaultRegistry(clock=clock, max_rules=3)
    for ttl in (30, 40, 50):
        faults.add(rule(now=clock(), kind="drop", route="*", ttl_s=ttl))

    with pytest.raises(TooManyFaultRules) as caught:
        faults.add(rule(now=clock(), kind="drop", route="*"))
    assert (caught.value.limit, caught.value.retry_after_s) == (3, 30)
    assert len(faults.active()) == 3

    clock.advance(30)
    faults.add(rule(now=clock(), kind="drop", route="*"))
    assert len(faults.active()) == 3


def test_matching_a_request_looks_at_none_of_the_rules_of_other_routes_or_edges(
    clock: FakeClock,
) -> None:
    faults = FaultRegistry(clock=clock, max_rules=10_000)
    for i in range(5000):
        where = {"route": "/titles/{id}"} if i % 2 else {"edge": "caller -> up"}
        faults.add(rule(now=clock(), kind="error", status=500, **where))

    before = faults.rules_examined
    assert faults.match_route("/popular", "GET", "none") is None
    assert faults.match_edge("other", "none") is None
    assert faults.rules_examined == before

    faults.add(rule(now=clock(), kind="drop", route="/popular", cohort="experiment"))
    assert faults.match_route("/popular", "GET", "control") is None
    assert faults.rules_examined == before + 1


def test_matching_a_route_stops_at_the_first_rule_that_applies(clock: FakeClock) -> None:
    faults = FaultRegistry(clock=clock, max_rules=10_000)
    first = rule(now=clock(), kind="error", route="/titles/{id}", status=500)
    faults.add(first)
    for _ in range(999):
        faults.add(rule(now=clock(), kind="drop", route="/titles/{id}"))

    before = faults.rules_examined
    assert faults.match_route("/titles/{id}", "GET", "none") == first
    assert faults.rules_examined == before + 1


@pytest.mark.parametrize("wildcard_first", [True, False])
def test_route_and_wildcard_rules_match_in_the_order_they_were_added(
    seeded_faults: FaultRegistry, wildcard_first: bool
) -> None:
    wildcard = rule(kind="error", route="*", status=500)
    exact = rule(kind="error", route="/popular", status=418)
    for r in (wildcard, exact) if wildcard_first else (exact, wildcard):
        seeded_faults.add(r)

    matched = seeded_faults.match_route("/popular", "GET", "none")

    assert matched == (wildcard if wildcard_first else exact)


def test_rules_expire_one_by_one_in_order_of_expiry(
    seeded_faults: FaultRegistry, clock: FakeClock
) -> None:
    for ttl in (5, 1, 4, 2, 3):
        seeded_faults.add(rule(now=clock(), kind="drop", route="*", ttl_s=ttl))

    remaining = []
    for _ in range(5):
        clock.advance(1)
        remaining.append(sorted(r.ttl_s for r in seeded_faults.active()))

    assert remaining == [[2, 3, 4, 5], [3, 4, 5], [4, 5], [5], []]


def test_a_removed_rule_does_not_take_a_later_rule_with_it_at_its_expiry(
    seeded_faults: FaultRegistry, clock: FakeClock
) -> None:
    short = rule(now=clock(), kind="drop", route="*", ttl_s=5)
    seeded_faults.add(short)
    seeded_faults.remove(short.id)
    kept = rule(now=clock(), kind="hang", route="*", ttl_s=50)
    seeded_faults.add(kept)

    clock.advance(5)

    assert seeded_faults.active() == [kept]
    assert seeded_faults.match_route("/popular", "GET", "none") == kept


def test_listing_by_tag_returns_only_that_tags_rules_in_order_added(
    seeded_faults: FaultRegistry,
) -> None:
    a = rule(kind="drop", route="*", tag="run-1")
    b = rule(kind="drop", edge="caller -> up", tag="run-2")
    c = rule(kind="hang", route="/popular", tag="run-1")
    for r in (a, b, c):
        seeded_faults.add(r)

    assert seeded_faults.active("run-1") == [a, c]
    assert seeded_faults.active("run-3") == []


# -- server-side behaviour ---------------------------------------------------


HANDLED = web.AppKey("handled", list[str])


def service_routes(app: web.Application) -> None:
    app[HANDLED] = []

    async def title(request: web.Request) -> web.Response:
        request.app[HANDLED].append(request.path)
        return web.json_response({"id": int(request.match_info["id"])})

    async def popular(request: web.Request) -> web.Response:
        request.app[HANDLED].append(request.path)
        return web.json_response({"titles": [1, 2, 3]})

    app.router.add_get("/titles/{id}", title)
    app.router.add_get("/popular", popular)


@pytest.fixture
async def server(make_caller: MakeCaller, seeded_faults: FaultRegistry) -> Caller:
    """A service with two routes, its faults on the fake clock."""
    return await make_caller(faults=seeded_faults, routes=service_routes)


@pytest.fixture
async def client(server: Caller, aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(server.server)


def dropped(caller: Caller) -> float:
    """The requests to /popular the service counted as dropped."""
    return caller.sample(
        "chaosbed_http_requests_total", route="/popular", method="GET", status="dropped",
        cohort="none",
    )  # fmt: skip


@pytest.fixture
def inject(client: Client, control_headers: dict[str, str]) -> Inject:
    """`await inject(**rule)`: add a rule through the control API, return its id."""

    async def add(**body: Any) -> str:
        resp = await client.post("/_chaos/faults", json=body, headers=control_headers)
        assert resp.status == 201, await resp.text()
        return cast(str, (await resp.json())["id"])

    return add


async def test_server_latency_fault_delays_the_response(client: Client, inject: Inject) -> None:
    await inject(kind="latency", route="/titles/{id}", delay_ms=150)

    started = time.monotonic()
    resp = await client.get("/titles/1")

    assert resp.status == 200
    assert time.monotonic() - started >= 0.15


async def test_server_error_fault_returns_its_status_without_running_the_handler(
    server: Caller, client: Client, inject: Inject
) -> None:
    await inject(kind="error", route="/titles/{id}", status=418)

    resp = await client.get("/titles/1")

    assert resp.status == 418
    assert (await resp.json())["error"] == "injected fault"
    assert server.app[HANDLED] == []


async def test_server_fault_on_one_route_leaves_the_others_alone(
    client: Client, inject: Inject
) -> None:
    await inject(kind="error", route="/titles/{id}", status=500)

    assert (await client.get("/popular")).status == 200


async def test_server_drop_fault_closes_the_connection(client: Client, inject: Inject) -> None:
    await inject(kind="drop", route="/popular")

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.get("/popular")


async def test_server_drop_fault_is_not_logged_as_a_server_error(
    server: Caller, client: Client, inject: Inject, caplog: pytest.LogCaptureFixture
) -> None:
    await inject(kind="drop", route="/popular")

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.get("/popular")
    await until(lambda: dropped(server) == 1)  # its handling is over: a log would be out

    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


async def test_server_hang_fault_ends_with_the_callers_timeout(
    client: Client, inject: Inject
) -> None:
    await inject(kind="hang", route="/popular", ttl_s=60)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await client.get("/popular", timeout=aiohttp.ClientTimeout(total=0.2))

    assert time.monotonic() - started < 1.0  # the caller's 0.2 s, not the hang's 60 s


async def test_a_removed_hang_fault_releases_the_requests_it_holds(
    server: Caller, client: Client, inject: Inject, control_headers: dict[str, str]
) -> None:
    rule_id = await inject(kind="hang", route="/popular", ttl_s=600)
    hung = asyncio.ensure_future(client.get("/popular"))
    await until(lambda: server.app[FAULTS].hung == 1)
    assert not hung.done()

    await client.delete(f"/_chaos/faults/{rule_id}", headers=control_headers)

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await asyncio.wait_for(hung, 1.0)


async def test_a_removed_latency_fault_stops_delaying_the_requests_it_holds(
    server: Caller, client: Client, inject: Inject, control_headers: dict[str, str]
) -> None:
    rule_id = await inject(kind="latency", route="/popular", delay_ms=8000)
    started = time.monotonic()
    delayed = asyncio.ensure_future(client.get("/popular", headers={DEADLINE_HEADER: "20000"}))
    await until(lambda: server.app[FAULTS].matched(rule_id) == 1)  # it is being delayed
    assert not delayed.done()

    await client.delete(f"/_chaos/faults/{rule_id}", headers=control_headers)

    resp = await asyncio.wait_for(delayed, 1.0)
    assert resp.status == 200  # served at once, not 8 s after the rollback
    assert time.monotonic() - started < 1.5
    assert server.app[HANDLED] == ["/popular"]


async def test_an_expired_hang_fault_releases_the_requests_it_holds(
    server: Caller, client: Client, inject: Inject, clock: FakeClock
) -> None:
    await inject(kind="hang", route="/popular", ttl_s=600)
    hung = asyncio.ensure_future(client.get("/popular"))
    await until(lambda: server.app[FAULTS].hung == 1)
    assert not hung.done()

    clock.advance(600)

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await asyncio.wait_for(hung, 1.0)


async def test_server_latency_beyond_the_deadline_ends_at_the_deadline_with_504(
    server: Caller, client: Client, inject: Inject
) -> None:
    await inject(kind="latency", route="/popular", delay_ms=5000)

    started = time.monotonic()
    resp = await client.get(
        "/popular", headers={DEADLINE_HEADER: "200"}, timeout=aiohttp.ClientTimeout(total=3)
    )
    elapsed = time.monotonic() - started

    assert resp.status == 504
    assert "deadline" in (await resp.json())["error"]
    assert 0.19 <= elapsed < 1.0
    assert server.app[HANDLED] == []


async def test_server_latency_within_the_deadline_is_served_after_the_delay(
    server: Caller, client: Client, inject: Inject
) -> None:
    await inject(kind="latency", route="/popular", delay_ms=100)

    started = time.monotonic()
    resp = await client.get("/popular", headers={DEADLINE_HEADER: "1000"})

    assert resp.status == 200
    assert time.monotonic() - started >= 0.1
    assert server.app[HANDLED] == ["/popular"]


async def test_server_hang_ends_at_the_deadline_with_504(
    server: Caller, client: Client, inject: Inject
) -> None:
    await inject(kind="hang", route="/popular", ttl_s=600)

    started = time.monotonic()
    resp = await client.get(
        "/popular", headers={DEADLINE_HEADER: "200"}, timeout=aiohttp.ClientTimeout(total=3)
    )

    assert resp.status == 504
    assert 0.19 <= time.monotonic() - started < 1.0
    assert server.app[FAULTS].hung == 0


@pytest.fixture
async def capped(
    make_caller: MakeCaller, clock: FakeClock, aiohttp_client: AiohttpClient
) -> tuple[FaultRegistry, Client]:
    """A service whose hang rules may hold at most two requests at once."""
    faults = FaultRegistry(clock=clock, max_hung=2)
    caller = await make_caller(faults=faults, routes=service_routes)
    return faults, await aiohttp_client(caller.server)


async def test_a_hang_beyond_the_cap_of_hung_requests_is_dropped_at_once(
    capped: tuple[FaultRegistry, Client], control_headers: dict[str, str]
) -> None:
    faults, client = capped
    body = {"kind": "hang", "route": "/popular", "ttl_s": 600}
    rule_id = (
        await (await client.post("/_chaos/faults", json=body, headers=control_headers)).json()
    )["id"]
    hung = [asyncio.ensure_future(client.get("/popular")) for _ in range(2)]
    await until(lambda: faults.hung == 2)

    started = time.monotonic()
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.get("/popular", timeout=aiohttp.ClientTimeout(total=3))
    assert time.monotonic() - started < 0.5
    assert not any(h.done() for h in hung)

    await client.delete(f"/_chaos/faults/{rule_id}", headers=control_headers)
    for h in hung:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await asyncio.wait_for(h, 1.0)
    assert faults.hung == 0


async def test_server_cohort_fault_hits_only_the_experiment_cohort(
    client: Client, inject: Inject
) -> None:
    await inject(kind="error", route="*", status=503, cohort="experiment")

    statuses = {
        cohort: (await client.get("/popular", headers={COHORT_HEADER: cohort})).status
        for cohort in ("experiment", "control", "none")
    }

    assert statuses == {"experiment": 503, "control": 200, "none": 200}


async def test_server_percent_fault_hits_about_that_share_of_requests(
    client: Client, inject: Inject
) -> None:
    await inject(kind="error", route="/popular", status=503, percent=30)

    statuses = [(await client.get("/popular")).status for _ in range(200)]

    assert 40 <= statuses.count(503) <= 80


async def test_control_health_and_metrics_routes_are_never_faulted(
    client: Client, inject: Inject, control_headers: dict[str, str]
) -> None:
    for kind in ("error", "drop"):
        await inject(kind=kind, route="*")

    statuses = [
        (await client.get(path, headers=control_headers)).status
        for path in ("/healthz", "/readyz", "/metrics", "/_chaos/faults")
    ]

    assert statuses == [200, 200, 200, 200]
    assert (await client.delete("/_chaos/faults", headers=control_headers)).status == 200
    assert (await client.get("/popular")).status == 200


async def test_a_server_fault_stops_at_its_ttl(
    client: Client, inject: Inject, clock: FakeClock
) -> None:
    await inject(kind="error", route="/popular", ttl_s=10)
    assert (await client.get("/popular")).status == 503

    clock.advance(10)

    assert (await client.get("/popular")).status == 200


def gauge(server: Caller, kind: str) -> float:
    return server.sample("chaosbed_faults_active", kind=kind)


async def test_faults_active_gauge_follows_add_and_remove(
    server: Caller, client: Client, inject: Inject, control_headers: dict[str, str]
) -> None:
    first = await inject(kind="latency", route="*", delay_ms=1)
    await inject(kind="drop", route="/titles/{id}")
    assert (gauge(server, "latency"), gauge(server, "drop")) == (1, 1)

    await client.delete(f"/_chaos/faults/{first}", headers=control_headers)
    assert (gauge(server, "latency"), gauge(server, "drop")) == (0, 1)

    await client.delete("/_chaos/faults", headers=control_headers)
    assert (gauge(server, "latency"), gauge(server, "drop")) == (0, 0)


async def test_faults_active_gauge_drops_at_expiry_even_without_traffic(
    server: Caller, client: Client, inject: Inject, clock: FakeClock
) -> None:
    await inject(kind="hang", route="/popular", ttl_s=5)
    assert gauge(server, "hang") == 1

    clock.advance(5)
    text = await (await client.get("/metrics")).text()

    assert 'chaosbed_faults_active{kind="hang",service="caller"} 0.0' in text


# -- client-side (edge) behaviour ------------------------------------------


@pytest.fixture
async def edge(
    make_caller: MakeCaller,
    upstream: Upstream,
    dep_settings: Callable[..., DependencySettings],
    seeded_faults: FaultRegistry,
) -> Caller:
    """A caller with two dependencies on the same upstream; faults on a fake clock."""
    return await make_caller(
        dependencies=[
            dep_settings(upstream.url, name="up", attempts=1, timeout_s=0.1, breaker_fail_max=2),
            dep_settings(upstream.url, name="other", attempts=1),
        ],
        faults=seeded_faults,
    )


def add_edge_rule(caller: Caller, **body: Any) -> FaultRule:
    faults = caller.app[FAULTS]
    r = parse_rule(
        {"edge": "caller -> up", **body},
        service="caller",
        dependencies=DEPS,
        routes=(),
        now=faults.clock(),
    )
    faults.add(r)
    return r


async def test_edge_latency_fault_delays_the_call(edge: Caller, upstream: Upstream) -> None:
    add_edge_rule(edge, kind="latency", delay_ms=80)

    started = time.monotonic()
    response = await edge.dep("up").get("/x")

    assert response.status == 200
    assert time.monotonic() - started >= 0.08
    assert upstream.hits == 1


async def test_edge_5xx_fault_raises_dependency_http_error_without_sending(
    edge: Caller, upstream: Upstream
) -> None:
    add_edge_rule(edge, kind="error", status=502)

    with pytest.raises(DependencyHTTPError) as caught:
        await edge.dep("up").get("/x")

    assert caught.value.status == 502
    assert upstream.hits == 0


async def test_edge_5xx_fault_counts_toward_the_breaker(edge: Caller, upstream: Upstream) -> None:
    add_edge_rule(edge, kind="error", status=503)

    for _ in range(2):
        with pytest.raises(DependencyHTTPError):
            await edge.dep("up").get("/x")

    with pytest.raises(CircuitOpen):
        await edge.dep("up").get("/x")
    assert edge.breaker_state("up") == 1


async def test_edge_4xx_fault_is_returned_as_the_answer(edge: Caller, upstream: Upstream) -> None:
    add_edge_rule(edge, kind="error", status=404)

    response = await edge.dep("up").get("/x")

    assert response.status == 404
    assert upstream.hits == 0


async def test_edge_drop_fault_raises_dependency_unavailable(
    edge: Caller, upstream: Upstream
) -> None:
    add_edge_rule(edge, kind="drop")

    with pytest.raises(DependencyUnavailable):
        await edge.dep("up").get("/x")

    assert upstream.hits == 0


async def test_edge_hang_fault_ends_with_the_per_try_timeout(
    edge: Caller, upstream: Upstream
) -> None:
    add_edge_rule(edge, kind="hang", ttl_s=60)

    started = time.monotonic()
    with pytest.raises(DependencyTimeout):
        await edge.dep("up").get("/x")

    assert time.monotonic() - started < 1.0  # timeout_s is 0.1; the hang would last 60 s
    assert upstream.hits == 0


async def test_an_edge_hang_is_counted_in_hung_and_beyond_the_cap_dropped_at_once(
    make_caller: MakeCaller,
    upstream: Upstream,
    dep_settings: Callable[..., DependencySettings],
    clock: FakeClock,
) -> None:
    faults = FaultRegistry(clock=clock, max_hung=1)
    caller = await make_caller(
        dependencies=[dep_settings(upstream.url, name="up", attempts=1, timeout_s=20)],
        faults=faults,
    )
    hang = add_edge_rule(caller, kind="hang", ttl_s=600)
    held = asyncio.ensure_future(caller.dep("up").get("/x"))
    await until(lambda: faults.hung == 1)

    started = time.monotonic()
    with pytest.raises(DependencyUnavailable):
        await caller.dep("up").get("/x")
    assert time.monotonic() - started < 0.5

    faults.remove(hang.id)
    assert (await asyncio.wait_for(held, 2.0)).status == 200
    assert faults.hung == 0
    assert upstream.hits == 1  # the released call, sent; the refused one never was


@pytest.fixture
async def patient_edge(
    make_caller: MakeCaller,
    upstream: Upstream,
    dep_settings: Callable[..., DependencySettings],
    seeded_faults: FaultRegistry,
) -> Caller:
    """A caller whose per-try timeout (20 s) outlasts the faults it is given."""
    return await make_caller(
        dependencies=[dep_settings(upstream.url, name="up", attempts=1, timeout_s=20)],
        faults=seeded_faults,
    )


async def test_a_removed_edge_latency_fault_stops_delaying_calls_in_flight(
    patient_edge: Caller, upstream: Upstream
) -> None:
    slow = add_edge_rule(patient_edge, kind="latency", delay_ms=8000)
    started = time.monotonic()
    call = asyncio.ensure_future(patient_edge.dep("up").get("/x"))
    await until(lambda: patient_edge.app[FAULTS].matched(slow.id) == 1)  # it is being delayed
    assert not call.done()

    patient_edge.app[FAULTS].remove(slow.id)

    response = await asyncio.wait_for(call, 1.0)
    assert response.status == 200
    assert time.monotonic() - started < 1.5
    assert upstream.hits == 1


async def test_a_removed_edge_hang_fault_lets_the_held_call_through(
    patient_edge: Caller, upstream: Upstream
) -> None:
    hung = add_edge_rule(patient_edge, kind="hang", ttl_s=600)
    call = asyncio.ensure_future(patient_edge.dep("up").get("/x"))
    await until(lambda: patient_edge.app[FAULTS].hung == 1)
    assert not call.done()

    patient_edge.app[FAULTS].remove(hung.id)

    response = await asyncio.wait_for(call, 1.0)
    assert response.status == 200
    assert upstream.hits == 1


async def test_edge_fault_leaves_other_dependencies_alone(edge: Caller, upstream: Upstream) -> None:
    add_edge_rule(edge, kind="drop")

    response = await edge.dep("other").get("/y")

    assert response.status == 200
    assert [r["path"] for r in upstream.requests] == ["/y"]


async def test_edge_cohort_fault_follows_the_cohort_of_the_request(
    edge: Caller, upstream: Upstream
) -> None:
    add_edge_rule(edge, kind="drop", cohort="experiment")

    with bound(RequestContext("r1", "experiment", None)), pytest.raises(DependencyUnavailable):
        await edge.dep("up").get("/x")
    with bound(RequestContext("r2", "control", None)):
        assert (await edge.dep("up").get("/x")).status == 200
    assert (await edge.dep("up").get("/x")).status == 200  # outside any request: "none"


async def test_an_edge_fault_stops_at_its_ttl(
    edge: Caller, upstream: Upstream, clock: FakeClock
) -> None:
    add_edge_rule(edge, kind="drop", ttl_s=3)
    with pytest.raises(DependencyUnavailable):
        await edge.dep("up").get("/x")

    clock.advance(3)

    assert (await edge.dep("up").get("/x")).status == 200
