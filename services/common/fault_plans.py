"""Request-scoped faults: a plan signed with the stack's control token, carried by one
request and by every call it causes, and acted out at the call sites it names.

A request may carry a fault plan in `X-Chaosbed-Fault-Plan`:

    <payload>.<signature>
    payload   = base64url(JSON {"id": ..., "exp": ..., "faults": [...]})
    signature = hex HMAC-SHA256 of the payload, keyed with the control token

`id` names the exploration (1 to 64 of ``A-Za-z0-9._:-``); `exp` is when the
plan stops being honoured (Unix seconds, at most `MAX_TTL_S` ahead); each
fault names a call site and what happens there:

    {"service": "playback", "dependency": "catalog", "route": "/titles/{id}",
     "method": "GET", "attempt": 1, "fault": "hang"}

`route`, `method` and `attempt` may be left out (null): every route, every
method, every try. The faults (`FAULTS`): ``refused`` and ``reset`` (no
answer: the connection failed), ``hang`` (no answer until the per-try
timeout ends the try), ``500``, ``503`` and ``429`` (an answer with that
status and no upstream-failure header), ``malformed`` (a 200 whose body is not
JSON) and ``oversized`` (an answer over the client's ``max_body_bytes``).
They act inside the circuit breaker and the per-try timeout, exactly where an
edge fault rule acts (dependency.py), so breakers, retries and fallbacks
meet them as they would a misbehaving dependency.

The kit honours a plan only when the service has a control token, the
signature is the token's and the plan has not expired; anything else is
ignored and counted (`chaosbed_fault_plans_total{result}`), never an error
for the member: `unsigned` (this service has no control token, or the
signature is missing), `bad_signature`, `expired`, `malformed`. An honoured
plan travels on, verbatim, with every call the request makes (its
signature still holds one hop down), so a fault can name a call site two
hops away, and every other request on the stack is untouched.

A request with an honoured plan is also *recorded*: each hop notes every try
of every dependency call it makes (`CallRecord`), with the calls that try
caused on the hops below it, and answers them in `X-Chaosbed-Calls` (JSON).
An empty list of faults records without injecting anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.topology import HTTP_METHODS, ROUTES

__all__ = [
    "CALLS_HEADER",
    "FAULTS",
    "MAX_TTL_S",
    "PLAN_HEADER",
    "PLAN_RESULTS",
    "CallRecord",
    "FaultPlan",
    "PlanFault",
    "read_plan",
    "route_template",
    "sign_plan",
]

PLAN_HEADER = "X-Chaosbed-Fault-Plan"
CALLS_HEADER = "X-Chaosbed-Calls"
FAULTS = ("refused", "reset", "hang", "500", "503", "429", "malformed", "oversized")
#: What became of a plan a request carried (the `result` label).
PLAN_RESULTS = ("accepted", "unsigned", "bad_signature", "expired", "malformed")
MAX_TTL_S = 300.0
MAX_PLAN_BYTES = 16_384
MAX_FAULTS = 64
_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(frozen=True)
class PlanFault:
    """One call site and the fault it meets; None matches anything."""

    service: str
    dependency: str
    fault: str
    route: str | None = None
    method: str | None = None
    attempt: int | None = None

    def matches(self, service: str, dependency: str, route: str, method: str, attempt: int) -> bool:
        return (
            self.service == service
            and self.dependency == dependency
            and self.route in (None, route)
            and self.method in (None, method)
            and self.attempt in (None, attempt)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "dependency": self.dependency,
            "route": self.route,
            "method": self.method,
            "attempt": self.attempt,
            "fault": self.fault,
        }


@dataclass(frozen=True)
class FaultPlan:
    id: str
    expires: float
    faults: tuple[PlanFault, ...] = ()
    header: str = ""
    """The header as it came: forwarded verbatim, so its signature holds downstream."""

    def fault_for(
        self, service: str, dependency: str, route: str, method: str, attempt: int
    ) -> PlanFault | None:
        for fault in self.faults:
            if fault.matches(service, dependency, route, method, attempt):
                return fault
        return None


@dataclass
class CallRecord:
    """One try of a dependency call, and the tries it caused on the hops below."""

    service: str
    dependency: str
    method: str
    route: str
    attempt: int
    keyed: bool = False
    """The call carried an Idempotency-Key (a write that may be retried safely)."""
    outcome: str = "pending"
    fault: str | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "dependency": self.dependency,
            "method": self.method,
            "route": self.route,
            "attempt": self.attempt,
            "keyed": self.keyed,
            "outcome": self.outcome,
            "fault": self.fault,
            "calls": self.calls,
        }


def sign_plan(token: str, plan_id: str, faults: Sequence[PlanFault], *, ttl_s: float = 60.0) -> str:
    """The header value of a plan valid for `ttl_s` seconds, signed with `token`."""
    if not _ID.fullmatch(plan_id):
        raise ValueError(f"plan id must be 1 to 64 of A-Za-z0-9._:-, got {plan_id!r}")
    if not 0 < ttl_s <= MAX_TTL_S:
        raise ValueError(f"ttl_s must be in (0, {MAX_TTL_S:g}], got {ttl_s}")
    for fault in faults:
        _check_fault(fault)
    document = {
        "id": plan_id,
        "exp": round(time.time() + ttl_s, 3),
        "faults": [fault.to_json() for fault in faults],
    }
    payload = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")
    return f"{payload}.{_signature(token, payload)}"


def read_plan(
    value: str, token: str | None, *, now: float | None = None
) -> tuple[FaultPlan | None, str]:
    """The plan in a header value, and what became of it (one of `PLAN_RESULTS`).

    Never raises: a plan that cannot be honoured is (None, why)."""
    if not token:
        return None, "unsigned"
    payload, dot, signature = value.strip().partition(".")
    if not dot or not signature:
        return None, "unsigned"
    if len(value) > MAX_PLAN_BYTES:
        return None, "malformed"
    if not hmac.compare_digest(signature.encode(), _signature(token, payload).encode()):
        return None, "bad_signature"
    try:
        document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        plan = _plan_of(document, value.strip())
    except (ValueError, TypeError, KeyError, binascii.Error):
        return None, "malformed"
    now = time.time() if now is None else now
    if not now < plan.expires <= now + MAX_TTL_S + 5.0:
        return None, "expired"
    return plan, "accepted"


def route_template(dependency: str, path: str) -> str:
    """The route template of `dependency` that `path` (its query left out) calls."""
    bare = path.split("?", 1)[0]
    for template, pattern in _route_patterns(dependency):
        if pattern.fullmatch(bare):
            return template
    return bare


def _route_patterns(dependency: str) -> list[tuple[str, re.Pattern[str]]]:
    cached = _PATTERNS.get(dependency)
    if cached is None:
        cached = [
            (template, re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template))))
            for template in ROUTES.get(dependency, ())
        ]
        _PATTERNS[dependency] = cached
    return cached


_PATTERNS: dict[str, list[tuple[str, re.Pattern[str]]]] = {}


def _signature(token: str, payload: str) -> str:
    return hmac.new(token.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _plan_of(document: Mapping[str, Any], header: str) -> FaultPlan:
    plan_id = document["id"]
    if not isinstance(plan_id, str) or not _ID.fullmatch(plan_id):
        raise ValueError("id")
    expires = float(document["exp"])
    faults = document.get("faults") or []
    if not isinstance(faults, list) or len(faults) > MAX_FAULTS:
        raise ValueError("faults")
    parsed = tuple(_fault_of(item) for item in faults)
    return FaultPlan(plan_id, expires, parsed, header)


def _fault_of(item: Mapping[str, Any]) -> PlanFault:
    attempt = item.get("attempt")
    fault = PlanFault(
        service=str(item["service"]),
        dependency=str(item["dependency"]),
        fault=str(item["fault"]),
        route=None if item.get("route") is None else str(item["route"]),
        method=None if item.get("method") is None else str(item["method"]).upper(),
        attempt=None if attempt is None else int(attempt),
    )
    _check_fault(fault)
    return fault


def _check_fault(fault: PlanFault) -> None:
    if fault.fault not in FAULTS:
        raise ValueError(f"fault must be one of {', '.join(FAULTS)}, got {fault.fault!r}")
    if fault.method is not None and fault.method not in HTTP_METHODS:
        raise ValueError(f"method must be one of {', '.join(HTTP_METHODS)}, got {fault.method!r}")
    if fault.attempt is not None and fault.attempt < 1:
        raise ValueError(f"attempt must be 1 or more, got {fault.attempt}")
