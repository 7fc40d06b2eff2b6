"""The live fault rules of one service, in the manner of Netflix FIT: bounded,
indexed, and acted out within the request's deadline.

- Bounded: at most `max_rules` rules (default 1000) are active at once;
  `add` beyond that raises `TooManyFaultRules`. At most `max_hung` requests
  (default 256) are held by hang rules at once, across the service; a hang
  beyond that is refused and the caller drops the connection at once, so a
  hang and its overflow look alike to a client (no answer), while the
  service's sockets and tasks stay bounded.
- Indexed: server rules are kept by route template, client rules by
  dependency, so a request looks only at the rules of its own route (and
  the ``*`` rules) or its own edge. Expiry is a heap on the expiry time, so
  nothing scans every rule per request. `rules_examined` counts the rules
  matching has looked at, a structural measure of its cost.
- Counted: every rule counts the requests it matched, those it acted on
  (`matched`; the listing shows it), and `on_match` is told of each (the
  service's ``chaosbed_fault_rule_matches_total``). A corrupt rule counts a
  request only when a value was really changed (`acted`): one with no JSON
  body to corrupt was not acted on. A rule's count is gone
  with the rule: a service that restarts starts from nothing.
- Exact: every rule has a TTL and expires by itself, so a runner that dies
  cannot leave a fault behind. Server-side latency and hangs end at the
  request's deadline (`delay` returns False, `hang` returns
  `HangEnd.DEADLINE`): the middleware then answers 504.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
import math
import random
import time
from collections.abc import Callable, Iterable

from .corrupt import mangle
from .errors import TooManyFaultRules
from .fault_rules import ANY_ROUTE, KINDS, FaultRule, parse_rule, parse_tag

__all__ = [
    "KINDS",
    "MAX_HUNG",
    "MAX_RULES",
    "FaultRegistry",
    "FaultRule",
    "HangEnd",
    "parse_rule",
    "parse_tag",
]

MAX_RULES = 1000
MAX_HUNG = 256
HANG_POLL_S = 0.1  # how soon a hung request notices its rule was removed or expired


class HangEnd(enum.Enum):
    RELEASED = "released"  # the rule was removed or expired: drop the connection
    DEADLINE = "deadline"  # the request's deadline came first: answer 504
    REFUSED = "refused"  # max_hung requests were hung already: drop the connection at once


class FaultRegistry:
    """The live rules of one service; expired rules vanish on every read.

    Deadlines given to `delay` and `hang` are `time.monotonic()` instants, as
    in `RequestContext.deadline`; rule expiry runs on `clock`.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        on_change: Callable[[dict[str, int]], None] | None = None,
        *,
        on_match: Callable[[FaultRule], None] | None = None,
        wall_clock: Callable[[], float] = time.time,
        max_rules: int = MAX_RULES,
        max_hung: int = MAX_HUNG,
    ) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self.rng = rng or random.Random()
        self.on_change = on_change
        self.on_match = on_match
        self.max_rules = max_rules
        self.max_hung = max_hung
        self.hung = 0  # requests held by hang rules right now
        self.rules_examined = 0  # rules looked at by matching, ever
        self._rules: dict[str, FaultRule] = {}
        self._by_route: dict[str, dict[str, FaultRule]] = {}
        self._by_edge: dict[str, dict[str, FaultRule]] = {}
        self._order: dict[str, int] = {}  # insertion order: the first added rule wins
        self._matched: dict[str, int] = {}  # rule id -> requests it acted on
        self._sequence = itertools.count()
        self._expiry: list[tuple[float, str]] = []  # heap; entries of removed rules go stale
        self._counts = dict.fromkeys(KINDS, 0)

    # -- bookkeeping ------------------------------------------------------

    def _notify(self) -> None:
        if self.on_change is not None:
            self.on_change(dict(self._counts))

    def _index(self, rule: FaultRule) -> dict[str, dict[str, FaultRule]]:
        return self._by_edge if rule.edge is not None else self._by_route

    def _key(self, rule: FaultRule) -> str:
        key = rule.edge if rule.edge is not None else rule.route
        assert key is not None  # parse_rule gives every rule a route or an edge
        return key

    def _unlink(self, rule: FaultRule) -> None:
        del self._rules[rule.id]
        del self._order[rule.id]
        del self._matched[rule.id]
        index, key = self._index(rule), self._key(rule)
        bucket = index[key]
        del bucket[rule.id]
        if not bucket:
            del index[key]
        self._counts[rule.kind] -= 1

    def _compact(self) -> None:
        """Drop stale heap entries once they outnumber the live ones."""
        if len(self._expiry) > 2 * len(self._rules) + 64:
            self._expiry = [(r.expires_at, r.id) for r in self._rules.values()]
            heapq.heapify(self._expiry)

    def _purge(self) -> None:
        now = self.clock()
        expired = False
        while self._expiry and self._expiry[0][0] <= now:
            _, rule_id = heapq.heappop(self._expiry)
            rule = self._rules.get(rule_id)
            if rule is not None:
                self._unlink(rule)
                expired = True
        if expired:
            self._notify()

    def _soonest_expiry_s(self) -> float:
        while self._expiry and self._expiry[0][1] not in self._rules:
            heapq.heappop(self._expiry)
        return max(0.0, self._expiry[0][0] - self.clock()) if self._expiry else 0.0

    # -- the control plane -------------------------------------------------

    def add(self, rule: FaultRule) -> None:
        """Make `rule` live; `TooManyFaultRules` when `max_rules` are live already."""
        self._purge()
        if len(self._rules) >= self.max_rules:
            raise TooManyFaultRules(self.max_rules, self._soonest_expiry_s())
        self._rules[rule.id] = rule
        self._order[rule.id] = next(self._sequence)
        self._matched[rule.id] = 0
        self._index(rule).setdefault(self._key(rule), {})[rule.id] = rule
        heapq.heappush(self._expiry, (rule.expires_at, rule.id))
        self._counts[rule.kind] += 1
        self._notify()

    def remove(self, rule_id: str) -> bool:
        self._purge()
        rule = self._rules.get(rule_id)
        if rule is None:
            return False
        self._unlink(rule)
        self._compact()
        self._notify()
        return True

    def clear(self, tag: str | None = None) -> int:
        """Remove every rule, or every rule with `tag`; return how many."""
        self._purge()
        doomed = [r for r in self._rules.values() if tag is None or r.tag == tag]
        for rule in doomed:
            self._unlink(rule)
        self._compact()
        self._notify()
        return len(doomed)

    def active(self, tag: str | None = None) -> list[FaultRule]:
        """The live rules in the order they were added, or only those with `tag`."""
        self._purge()
        return [r for r in self._rules.values() if tag is None or r.tag == tag]

    def matched(self, rule_id: str) -> int:
        """The requests the live rule `rule_id` has acted on (0 for an unknown id)."""
        return self._matched.get(rule_id, 0)

    def is_live(self, rule: FaultRule) -> bool:
        return self._rules.get(rule.id) is rule and rule.expires_at > self.clock()

    # -- matching ----------------------------------------------------------

    def _pick(
        self, candidates: Iterable[FaultRule], cohort: str, method: str | None = None
    ) -> FaultRule | None:
        for rule in candidates:
            self.rules_examined += 1
            if rule.method is not None and rule.method != method:
                continue
            if rule.cohort != "any" and rule.cohort != cohort:
                continue
            if rule.percent >= 100 or self.rng.random() * 100 < rule.percent:
                if rule.kind != "corrupt":
                    self.acted(rule)
                return rule
        return None

    def corrupted(self, rule: FaultRule, body: bytes) -> bytes:
        """`body` with one JSON value changed by the corrupt `rule`, counted as acted on;
        `body` itself when it holds no value to change or the rule is gone."""
        mangled = mangle(body, self.rng)
        if mangled is None or not self.is_live(rule):
            return body
        self.acted(rule)
        return mangled

    def acted(self, rule: FaultRule) -> None:
        """Count a request `rule` acted on (a corrupt rule: a body it changed)."""
        if rule.id in self._matched:
            self._matched[rule.id] += 1
            if self.on_match is not None:
                self.on_match(rule)

    def match_route(self, route: str, method: str, cohort: str) -> FaultRule | None:
        """The first rule added that applies to a request arriving at `route`.

        Only the rules of `route` and of ``*`` are looked at.
        """
        if not self._rules:
            return None
        self._purge()
        exact = self._by_route.get(route, {})
        wild = self._by_route.get(ANY_ROUTE, {}) if route != ANY_ROUTE else {}
        if exact and wild:
            order = self._order
            candidates: Iterable[FaultRule] = heapq.merge(
                exact.values(), wild.values(), key=lambda r: order[r.id]
            )
        else:
            candidates = (exact or wild).values()
        return self._pick(candidates, cohort, method.upper())

    def match_edge(self, dependency: str, cohort: str) -> FaultRule | None:
        """The first rule added that applies to an outgoing call to `dependency`."""
        if not self._rules:
            return None
        self._purge()
        return self._pick(self._by_edge.get(dependency, {}).values(), cohort)

    # -- acting out server-side faults ---------------------------------------

    async def hold_while_live(
        self, rule: FaultRule, seconds: float, deadline: float | None = None
    ) -> HangEnd | None:
        """Wait up to `seconds` while `rule` stays live: None when the time is
        up, `RELEASED` as soon as the rule is removed or expires (a rollback
        ends the faults it acted out at once, within `HANG_POLL_S`), `DEADLINE`
        when the request's deadline comes first."""
        until = time.monotonic() + seconds
        while self.is_live(rule):
            now = time.monotonic()
            if deadline is not None and deadline <= now and deadline <= until:
                return HangEnd.DEADLINE
            if until <= now:
                return None
            wait = min(HANG_POLL_S, rule.expires_at - self.clock(), until - now)
            if deadline is not None:
                wait = min(wait, deadline - now)
            await asyncio.sleep(max(0.0, wait))
        return HangEnd.RELEASED

    async def delay(self, rule: FaultRule, deadline: float | None) -> bool:
        """Sleep the rule's latency, less if the rule is removed meanwhile;
        when the deadline comes first, sleep only until the deadline and
        return False."""
        return await self.hold_while_live(rule, rule.delay_s(self.rng), deadline) is not (
            HangEnd.DEADLINE
        )

    async def hang(self, rule: FaultRule, deadline: float | None) -> HangEnd:
        """Hold the request until the rule is removed or expires, or the
        deadline passes; refuse at once when `max_hung` are held already."""
        end = await self.hold_hung(rule, math.inf, deadline)
        return HangEnd.RELEASED if end is None else end

    async def hold_hung(
        self, rule: FaultRule, seconds: float, deadline: float | None = None
    ) -> HangEnd | None:
        """`hold_while_live` for a hang, server side or on an edge: counted in
        `hung`, and `REFUSED` at once when `max_hung` are held already."""
        if self.hung >= self.max_hung:
            return HangEnd.REFUSED
        self.hung += 1
        try:
            return await self.hold_while_live(rule, seconds, deadline)
        finally:
            self.hung -= 1
