"""Request-scoped faults: a signed plan travels with one request and acts at the call
sites it names, on any hop; an unsigned, tampered or expired plan changes nothing.

Real kit apps on loopback: `front` calls `middle`, which calls a fake leaf
(`up`). The plan is signed with the stack's control token, as `chaosbed
explore` signs it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpServer

from services.common import (
    DEPENDENCIES,
    METRICS,
    DependencyError,
    ServiceSettings,
    create_service_app,
)
from services.common.fault_plans import (
    CALLS_HEADER,
    FAULTS,
    PLAN_HEADER,
    PlanFault,
    read_plan,
    route_template,
    sign_plan,
)

from .conftest import TOKEN, Upstream, dependency_settings

LEAF_ROUTE = "/items/{id}"


async def _relay(request: web.Request) -> web.Response:
    """Call the one dependency with the same path; answer what it said, or 503."""
    (dependency,) = request.app[DEPENDENCIES].values()
    try:
        answer = await dependency.get(request.path)
    except DependencyError as exc:
        return web.json_response({"error": str(exc)}, status=503)
    return web.json_response({"relayed": answer.data, "status": answer.status})


async def _kit_app(
    aiohttp_server: AiohttpServer, name: str, dependency: str, url: str, **overrides: Any
) -> TestServer:
    settings = ServiceSettings(name=name, port=0, control_token=TOKEN)
    deps = [dependency_settings(url, name=dependency, **overrides)]
    app = create_service_app(settings, dependencies=deps)
    app.router.add_get(LEAF_ROUTE, _relay)
    server: TestServer = await aiohttp_server(app)
    return server


@dataclass
class Chain:
    front: TestServer
    middle: TestServer
    leaf: Upstream

    @property
    def url(self) -> str:
        return str(self.front.make_url(LEAF_ROUTE.replace("{id}", "7")))

    def plans(self, server: TestServer, result: str) -> float:
        app = server.app
        value = app[METRICS].registry.get_sample_value(
            "chaosbed_fault_plans_total", {"service": app[METRICS].service, "result": result}
        )
        return value or 0.0


@pytest.fixture
async def chain(aiohttp_server: AiohttpServer, upstream: Upstream) -> AsyncIterator[Chain]:
    middle = await _kit_app(aiohttp_server, "middle", "up", upstream.url)
    front = await _kit_app(aiohttp_server, "front", "middle", str(middle.make_url("")))
    yield Chain(front, middle, upstream)


async def _get(url: str, plan: str | None = None) -> tuple[int, Any, str | None]:
    headers = {PLAN_HEADER: plan} if plan is not None else {}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return resp.status, await resp.json(), resp.headers.get(CALLS_HEADER)


def _signed(document: dict[str, Any], token: str = TOKEN) -> str:
    """A plan signed by hand, as the format says (an independent check of sign_plan)."""
    payload = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")
    return payload + "." + hmac.new(token.encode(), payload.encode(), hashlib.sha256).hexdigest()


LEAF_503 = PlanFault("middle", "up", "503")


# ------------------------------------------------------------ honoured, on any hop


async def test_a_fault_two_hops_down_lands_on_the_named_try_and_is_recorded(chain: Chain) -> None:
    # "up" is not in the topology: a path it is called on is its own route
    plan = sign_plan(TOKEN, "x1", [PlanFault("middle", "up", "503", "/items/7", "GET", 1)])
    status, body, calls = await _get(chain.url, plan)
    # middle's first try met the 503 without reaching the leaf; its retry reached it
    assert status == 200 and body["relayed"]["status"] == 200
    assert chain.leaf.hits == 1
    assert chain.leaf.requests[0]["headers"][PLAN_HEADER] == plan  # forwarded verbatim
    assert calls is not None
    (front_try,) = json.loads(calls)
    assert front_try["service"] == "front" and front_try["dependency"] == "middle"
    assert (front_try["route"], front_try["attempt"], front_try["outcome"]) == (
        "/items/7",
        1,
        "success",
    )
    below = [
        (c["service"], c["dependency"], c["attempt"], c["outcome"], c["fault"])
        for c in front_try["calls"]
    ]
    assert below == [("middle", "up", 1, "error", "503"), ("middle", "up", 2, "success", None)]
    assert chain.plans(chain.front, "accepted") == 1 and chain.plans(chain.middle, "accepted") == 1


async def test_a_plan_touches_no_other_request(chain: Chain) -> None:
    plan = sign_plan(TOKEN, "x2", [PlanFault("middle", "up", "refused")])
    faulted = await _get(chain.url, plan)
    plain = await _get(chain.url)
    assert faulted[0] == 503 and chain.leaf.hits == 1  # only the plain request reached it
    assert plain[0] == 200 and plain[2] is None  # nor is a request without a plan recorded


async def test_a_plans_faults_leave_the_shared_breaker_and_retry_budget_alone(
    aiohttp_server: AiohttpServer, upstream: Upstream
) -> None:
    """Exploration beside live traffic: a breaker that one failure opens stays
    closed, and the budget that a retry spends is untouched."""
    front = await _kit_app(
        aiohttp_server, "front", "up", upstream.url, breaker_fail_max=1, breaker_min_calls=1
    )
    dependency = front.app[DEPENDENCIES]["up"]
    tokens = dependency.budget.floor_tokens()
    plan = sign_plan(TOKEN, "x8", [PlanFault("front", "up", "503")])
    for _ in range(3):
        assert (await _get(str(front.make_url("/items/1")), plan))[0] == 503
    assert dependency.breaker.current_state == "closed"
    assert dependency.budget.floor_tokens() >= tokens  # no retry was spent (it only refills)
    assert not dependency.budget._retries and not dependency.budget._requests
    status, _, _ = await _get(str(front.make_url("/items/1")))
    assert status == 200 and upstream.hits == 1


@pytest.mark.parametrize(
    ("fault", "outcome", "front_status"),
    [
        ("refused", "error", 503),
        ("reset", "error", 503),
        ("hang", "timeout", 503),
        ("500", "error", 503),
        ("503", "error", 503),
        ("429", "error", 503),
        ("malformed", "success", 200),
        ("oversized", "error", 503),
    ],
)
async def test_each_fault_acts_inside_the_per_try_timeout_and_the_retries(
    aiohttp_server: AiohttpServer, upstream: Upstream, fault: str, outcome: str, front_status: int
) -> None:
    front = await _kit_app(aiohttp_server, "front", "up", upstream.url, timeout_s=0.2)
    plan = sign_plan(TOKEN, "x3", [PlanFault("front", "up", fault, "/items/1")])
    status, body, calls = await _get(str(front.make_url("/items/1")), plan)
    assert status == front_status, body
    assert upstream.hits == 0, "every try met the fault, none reached the leaf"
    tries = json.loads(calls or "[]")
    retried = fault not in ("429", "malformed", "oversized")  # as a real answer would be
    assert [t["attempt"] for t in tries] == ([1, 2, 3] if retried else [1])
    assert {t["outcome"] for t in tries} == {outcome} and {t["fault"] for t in tries} == {fault}
    if fault == "malformed":
        assert body["relayed"] == "<html>not JSON (fault plan)</html>"
    acted = front.app[METRICS].registry.get_sample_value(
        "chaosbed_fault_plan_actions_total",
        {"service": "front", "dependency": "up", "fault": fault},
    )
    assert acted == len(tries)


# ------------------------------------------------------------ ignored, and counted


def _now_plus(seconds: float) -> float:
    return round(time.time() + seconds, 3)


@pytest.mark.parametrize(
    ("plan", "result"),
    [
        (sign_plan("another-token", "x4", [LEAF_503]), "bad_signature"),
        (sign_plan(TOKEN, "x4", [LEAF_503]).split(".")[0], "unsigned"),
        (_signed({"id": "x4", "exp": _now_plus(-1), "faults": [LEAF_503.to_json()]}), "expired"),
        (_signed({"id": "x4", "exp": _now_plus(3600), "faults": []}), "expired"),  # too far
        (_signed({"id": "x4", "exp": _now_plus(60), "faults": [{"fault": "melt"}]}), "malformed"),
        (_signed({"id": "no spaces", "exp": _now_plus(60), "faults": []}), "malformed"),
    ],
    ids=["other-token", "no-signature", "expired", "too-far-ahead", "bad-fault", "bad-id"],
)
async def test_a_plan_that_is_not_honoured_changes_nothing(
    chain: Chain, plan: str, result: str
) -> None:
    status, body, calls = await _get(chain.url, plan)
    assert status == 200 and body["relayed"]["status"] == 200
    assert chain.leaf.hits == 1 and calls is None
    assert PLAN_HEADER not in chain.leaf.requests[0]["headers"]  # an ignored plan stops here
    assert chain.plans(chain.front, result) == 1


async def test_a_tampered_plan_is_refused(chain: Chain) -> None:
    payload, _, signature = sign_plan(TOKEN, "x5", []).partition(".")
    swapped = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    swapped["faults"] = [LEAF_503.to_json()]
    forged = base64.urlsafe_b64encode(json.dumps(swapped).encode()).decode().rstrip("=")
    status, _, _ = await _get(chain.url, f"{forged}.{signature}")
    assert status == 200 and chain.leaf.hits == 1
    assert chain.plans(chain.front, "bad_signature") == 1


async def test_a_service_without_a_control_token_honours_no_plan(
    aiohttp_server: AiohttpServer, upstream: Upstream
) -> None:
    settings = ServiceSettings(name="front", port=0, control_token=None)
    app = create_service_app(settings, dependencies=[dependency_settings(upstream.url)])
    app.router.add_get(LEAF_ROUTE, _relay)
    server = await aiohttp_server(app)
    plan = sign_plan(TOKEN, "x6", [PlanFault("front", "up", "refused")])
    status, _, calls = await _get(str(server.make_url("/items/1")), plan)
    assert status == 200 and upstream.hits == 1 and calls is None


@given(st.text(max_size=300))
def test_reading_any_header_value_never_raises(value: str) -> None:
    plan, result = read_plan(value, TOKEN)
    assert plan is None and result in ("unsigned", "bad_signature", "malformed")


def test_signing_refuses_what_no_service_would_honour() -> None:
    with pytest.raises(ValueError, match="fault must be one of"):
        sign_plan(TOKEN, "x7", [PlanFault("a", "b", "melt")])
    with pytest.raises(ValueError, match="ttl_s"):
        sign_plan(TOKEN, "x7", [], ttl_s=3600)
    with pytest.raises(ValueError, match="plan id"):
        sign_plan(TOKEN, "has space", [])
    assert set(FAULTS) == {
        "refused",
        "reset",
        "hang",
        "500",
        "503",
        "429",
        "malformed",
        "oversized",
    }


def test_a_called_path_is_named_by_its_route_template() -> None:
    assert route_template("catalog", "/titles/42") == "/titles/{id}"
    assert route_template("catalog", "/popular?region=US") == "/popular"
    assert route_template("profiles-eu", "/profiles/m-1/plays") == "/profiles/{member}/plays"
    assert route_template("elsewhere", "/x/1") == "/x/1"
