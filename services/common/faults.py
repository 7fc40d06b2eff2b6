"""Application-layer fault rules, in the manner of Netflix FIT.

A rule says what (latency with jitter, an HTTP error status, a dropped
connection, a hang), where (a server route of this service, or an outgoing
edge ``this -> dependency``) and for whom (a cohort and a percentage of
requests). Every rule has a TTL and expires by itself, so a runner that dies
cannot leave a fault behind.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .errors import InvalidFaultRule

KINDS = ("latency", "error", "drop", "hang")
COHORT_SCOPES = ("experiment", "control", "any")
MAX_TTL_S = 3600.0
DEFAULT_TTL_S = 60.0
MAX_DELAY_MS = 60_000
ANY_ROUTE = "*"
_FIELDS = {
    "kind", "route", "method", "edge", "cohort", "percent", "delay_ms", "jitter_ms",
    "status", "ttl_s", "tag",
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
    expires_at: float  # monotonic clock

    def to_json(self, now: float) -> dict[str, Any]:
        body = asdict(self)
        del body["expires_at"]
        body["remaining_s"] = round(max(0.0, self.expires_at - now), 3)
        return body

    def delay_s(self, rng: random.Random) -> float:
        jitter = rng.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
        return max(0.0, self.delay_ms + jitter) / 1000


def _number(body: Mapping[str, Any], field: str, default: float, lo: float, hi: float) -> float:
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidFaultRule(field, f"must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise InvalidFaultRule(field, f"must be between {lo:g} and {hi:g}, got {value!r}")
    return float(value)


def _text(body: Mapping[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidFaultRule(field, f"must be a non-empty string, got {value!r}")
    return value.strip()


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
    route, edge = _text(body, "route"), _text(body, "edge")
    if (route is None) == (edge is None):
        raise InvalidFaultRule("route", "give exactly one of 'route' (server side) or 'edge'")
    method = _text(body, "method")
    dependency = None
    if edge is not None:
        if method is not None:
            raise InvalidFaultRule("method", "applies to a 'route' rule only")
        source, sep, target = (part.strip() for part in edge.partition("->"))
        if not sep or source != service or target not in set(dependencies):
            known = ", ".join(f"{service} -> {d}" for d in dependencies) or "none"
            raise InvalidFaultRule("edge", f"{edge!r} is not an edge of {service} (known: {known})")
        dependency = target
    elif route != ANY_ROUTE and route not in set(routes):
        raise InvalidFaultRule("route", f"{route!r} is not a route of {service} (or use '*')")
    cohort = body.get("cohort", "any")
    if cohort not in COHORT_SCOPES:
        raise InvalidFaultRule("cohort", f"must be one of {', '.join(COHORT_SCOPES)}")
    percent = _number(body, "percent", 100, 0, 100)
    delay_ms = _number(body, "delay_ms", 0, 0, MAX_DELAY_MS)
    jitter_ms = _number(body, "jitter_ms", 0, 0, MAX_DELAY_MS)
    if kind == "latency" and delay_ms == 0 and jitter_ms == 0:
        raise InvalidFaultRule("delay_ms", "a latency rule needs delay_ms > 0")
    status = _number(body, "status", 503 if kind == "error" else 0, 0, 599)
    if kind == "error" and not 400 <= status <= 599:
        raise InvalidFaultRule("status", f"an error rule needs a 4xx or 5xx status, got {status:g}")
    ttl_s = _number(body, "ttl_s", DEFAULT_TTL_S, 0.001, MAX_TTL_S)
    tag = _text(body, "tag") or ""
    if len(tag) > 128:
        raise InvalidFaultRule("tag", "must be at most 128 characters")
    return FaultRule(
        id=uuid.uuid4().hex[:12],
        kind=kind,
        route=route,
        method=method.upper() if method else None,
        edge=dependency,
        cohort=cohort,
        percent=percent,
        delay_ms=int(delay_ms),
        jitter_ms=int(jitter_ms),
        status=int(status),
        ttl_s=ttl_s,
        tag=tag,
        expires_at=now + ttl_s,
    )


class FaultRegistry:
    """The live rules of one service; expired rules vanish on every read."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        on_change: Callable[[dict[str, int]], None] | None = None,
    ) -> None:
        self.clock = clock
        self.rng = rng or random.Random()
        self._rules: dict[str, FaultRule] = {}
        self.on_change = on_change

    def _notify(self) -> None:
        if self.on_change is not None:
            counts = {kind: 0 for kind in KINDS}
            for rule in self._rules.values():
                counts[rule.kind] += 1
            self.on_change(counts)

    def _purge(self) -> None:
        now = self.clock()
        expired = [rid for rid, rule in self._rules.items() if rule.expires_at <= now]
        for rid in expired:
            del self._rules[rid]
        if expired:
            self._notify()

    def add(self, rule: FaultRule) -> None:
        self._purge()
        self._rules[rule.id] = rule
        self._notify()

    def remove(self, rule_id: str) -> bool:
        self._purge()
        found = self._rules.pop(rule_id, None) is not None
        if found:
            self._notify()
        return found

    def clear(self, tag: str | None = None) -> int:
        self._purge()
        doomed = [r.id for r in self._rules.values() if tag is None or r.tag == tag]
        for rid in doomed:
            del self._rules[rid]
        self._notify()
        return len(doomed)

    def active(self) -> list[FaultRule]:
        self._purge()
        return list(self._rules.values())

    def _pick(self, candidates: Iterable[FaultRule], cohort: str) -> FaultRule | None:
        for rule in candidates:
            if rule.cohort != "any" and rule.cohort != cohort:
                continue
            if rule.percent >= 100 or self.rng.random() * 100 < rule.percent:
                return rule
        return None

    def match_route(self, route: str, method: str, cohort: str) -> FaultRule | None:
        """The first rule that applies to a request arriving at `route`."""
        if not self._rules:
            return None
        return self._pick(
            (
                r
                for r in self.active()
                if r.route in (route, ANY_ROUTE) and r.method in (None, method.upper())
            ),
            cohort,
        )

    def match_edge(self, dependency: str, cohort: str) -> FaultRule | None:
        """The first rule that applies to an outgoing call to `dependency`."""
        if not self._rules:
            return None
        return self._pick((r for r in self.active() if r.edge == dependency), cohort)
