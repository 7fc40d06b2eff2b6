"""A fault rule and its grammar: what, where, for whom, for how long.

A rule says what (latency with jitter, an HTTP error status, a dropped
connection, a hang, one value of a JSON body corrupted), where (a server
route of this service, or an outgoing
edge ``this -> dependency``) and for whom (a cohort and a percentage of
requests). Every rule has a TTL. `parse_rule` validates every field of a
rule given as JSON; an error names the field that is wrong.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from services.topology import APP_FAULT_KINDS, HTTP_METHODS

from .corrupt import MESSAGES
from .errors import InvalidFaultRule

KINDS = APP_FAULT_KINDS
SIDES = ("server", "client")  # a rule on a route of this service, or on an outgoing edge
COHORT_SCOPES = ("experiment", "control", "any")
METHODS = HTTP_METHODS
MAX_TTL_S = 3600.0
DEFAULT_TTL_S = 60.0
MAX_DELAY_MS = 60_000
MAX_TAG_LENGTH = 128
TAG_PATTERN = re.compile(rf"[A-Za-z0-9._:@/+-]{{1,{MAX_TAG_LENGTH}}}")
ANY_ROUTE = "*"
_FIELDS = {
    "kind", "route", "method", "edge", "cohort", "percent", "delay_ms", "jitter_ms",
    "status", "ttl_s", "tag", "message",
}  # fmt: skip
_ONLY_FOR_KIND = {
    "delay_ms": "latency", "jitter_ms": "latency", "status": "error", "message": "corrupt",
}  # fmt: skip


@dataclass(frozen=True)
class FaultRule:
    id: str
    kind: str
    route: str | None  # server side: a route template of this service, or "*"
    method: str | None  # server side only; None = any method
    edge: str | None  # client side: the dependency name of "service -> dependency"
    cohort: str  # "experiment", "control" or "any"
    percent: float
    delay_ms: int
    jitter_ms: int
    status: int
    ttl_s: float
    tag: str
    expires_at: float  # on the registry's monotonic clock
    message: str | None = None  # corrupt: "request" or "response"

    @property
    def side(self) -> str:
        """``server`` for a rule on a route of this service, ``client`` for an edge rule."""
        return "client" if self.edge is not None else "server"

    def to_json(self, now: float, wall_now: float, matched: int = 0) -> dict[str, Any]:
        """The rule as the control API shows it, at monotonic `now` / wall-clock `wall_now`.

        ``remaining_s`` is the TTL left; ``expires_at`` the wall-clock instant
        of expiry (ISO 8601, UTC); ``matched`` the requests it has acted on.
        """
        body = asdict(self)
        body["matched"] = matched
        remaining = max(0.0, self.expires_at - now)
        body["remaining_s"] = round(remaining, 3)
        expiry = datetime.fromtimestamp(wall_now + remaining, UTC)
        body["expires_at"] = expiry.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return body

    def delay_s(self, rng: random.Random) -> float:
        jitter = rng.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
        return max(0.0, self.delay_ms + jitter) / 1000


def parse_tag(value: object, field: str = "tag") -> str:
    """A tag: 1 to 128 characters from letters, digits and ``. _ : @ / + -``."""
    if not isinstance(value, str) or not TAG_PATTERN.fullmatch(value):
        raise InvalidFaultRule(
            field,
            f"must be 1 to {MAX_TAG_LENGTH} characters from letters, digits and "
            f"'._:@/+-', got {value!r}",
        )
    return value


def _number(body: Mapping[str, Any], field: str, default: float, lo: float, hi: float) -> float:
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidFaultRule(field, f"must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise InvalidFaultRule(field, f"must be between {lo:g} and {hi:g}, got {value!r}")
    return float(value)


def _whole(body: Mapping[str, Any], field: str, default: int, lo: int, hi: int) -> int:
    value = _number(body, field, default, lo, hi)
    if not value.is_integer():
        raise InvalidFaultRule(field, f"must be a whole number, got {body[field]!r}")
    return int(value)


def _text(body: Mapping[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidFaultRule(field, f"must be a non-empty string, got {value!r}")
    return value.strip()


def _one_of(body: Mapping[str, Any], field: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(field, default)
    if value not in allowed:
        raise InvalidFaultRule(field, f"must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _method(body: Mapping[str, Any]) -> str | None:
    method = _text(body, "method")
    if method is None:
        return None
    if method.upper() not in METHODS:
        raise InvalidFaultRule("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    return method.upper()


def _edge(edge: str, service: str, dependencies: Iterable[str]) -> str:
    deps = tuple(dependencies)
    source, sep, target = (part.strip() for part in edge.partition("->"))
    if not sep or source != service or target not in deps:
        known = ", ".join(f"{service} -> {d}" for d in deps) or "none"
        raise InvalidFaultRule("edge", f"{edge!r} is not an edge of {service} (known: {known})")
    return target


def parse_rule(
    body: Any,
    *,
    service: str,
    dependencies: Iterable[str],
    routes: Iterable[str],
    now: float,
) -> FaultRule:
    """Validate a rule from JSON; an error names the field that is wrong."""
    if not isinstance(body, Mapping):
        raise InvalidFaultRule("body", "must be a JSON object")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise InvalidFaultRule(unknown[0], f"unknown field (allowed: {', '.join(sorted(_FIELDS))})")
    kind = body.get("kind")
    if kind not in KINDS:
        raise InvalidFaultRule("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    for field, only in _ONLY_FOR_KIND.items():
        if field in body and kind != only:
            raise InvalidFaultRule(field, f"applies to a {only!r} rule only, not {kind!r}")
    route, edge = _text(body, "route"), _text(body, "edge")
    if (route is None) == (edge is None):
        raise InvalidFaultRule("route", "give exactly one of 'route' (server side) or 'edge'")
    method = _method(body)
    dependency = None
    if edge is not None:
        if method is not None:
            raise InvalidFaultRule("method", "applies to a 'route' rule only")
        dependency = _edge(edge, service, dependencies)
    elif route != ANY_ROUTE and route not in set(routes):
        raise InvalidFaultRule("route", f"{route!r} is not a route of {service} (or use '*')")
    cohort = _one_of(body, "cohort", COHORT_SCOPES, "any")
    percent = _number(body, "percent", 100, 0, 100)
    delay_ms = _whole(body, "delay_ms", 0, 0, MAX_DELAY_MS)
    jitter_ms = _whole(body, "jitter_ms", 0, 0, MAX_DELAY_MS)
    if kind == "latency" and delay_ms == 0 and jitter_ms == 0:
        raise InvalidFaultRule("delay_ms", "a latency rule needs delay_ms > 0")
    status = _whole(body, "status", 503 if kind == "error" else 0, 0, 599)
    if kind == "error" and not 400 <= status <= 599:
        raise InvalidFaultRule("status", f"an error rule needs a 4xx or 5xx status, got {status}")
    message = _one_of(body, "message", MESSAGES, "response") if kind == "corrupt" else None
    ttl_s = _number(body, "ttl_s", DEFAULT_TTL_S, 0.001, MAX_TTL_S)
    tag = parse_tag(body["tag"]) if "tag" in body and body["tag"] is not None else ""
    return FaultRule(
        id=uuid.uuid4().hex[:12],
        kind=kind,
        route=route,
        method=method,
        edge=dependency,
        cohort=cohort,
        percent=percent,
        delay_ms=delay_ms,
        jitter_ms=jitter_ms,
        status=status,
        ttl_s=ttl_s,
        tag=tag,
        expires_at=now + ttl_s,
        message=message,
    )
