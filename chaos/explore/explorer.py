"""Every call site of every journey, every fault: the executions of `chaosbed explore`.

For each journey: one fault-free execution (a signed plan with no faults,
so every hop records its calls) learns the journey's call sites, the
(service, dependency, method, route) of every try on every hop; then one
execution per (call site, fault), the fault on every try of that site.
Each execution is one member request, carrying its plan; nothing else on the
stack is touched (services/common/fault_plans.py). Executions run a few at
a time; each is checked against the contract (contract.py).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode
from services.common.context import DEADLINE_HEADER, REQUEST_ID_HEADER
from services.common.dependency import calls_below, is_idempotent
from services.common.fault_plans import FAULTS, PLAN_HEADER, PlanFault, sign_plan
from services.common.upstream_failure import UPSTREAM_FAILURE_HEADER
from services.topology import EDGES

from .contract import Contract, flatten, rule_violations
from .journeys import Request, outcome_of, pick_title, request_for

__all__ = ["Execution", "ExploreFailed", "Site", "explore"]


class ExploreFailed(ChaosbedError):
    """The stack did not answer what exploring needs (a title to play)."""

    exit_code = ExitCode.INFRASTRUCTURE_FAILED


#: The member's deadline, as the load generator sends it.
MEMBER_DEADLINE_MS = 2000


@dataclass(frozen=True, order=True)
class Site:
    """One call site: a caller's calls to a dependency on one route and method."""

    service: str
    dependency: str
    method: str
    route: str

    @property
    def edge(self) -> str:
        return f"{self.service} -> {self.dependency}"

    def __str__(self) -> str:
        return f"{self.edge} {self.method} {self.route}"


@dataclass
class Execution:
    journey: str
    request_id: str
    site: Site | None
    fault: str | None
    status: int | None
    outcome: str
    calls: list[dict[str, Any]]
    seconds: float
    violations: list[str] = field(default_factory=list)
    first_try: bool = False
    """The fault met only the site's first try (else every try)."""
    also: tuple[Site, str] | None = None
    """With --depth 2: a second site and the fault it met too, on every try."""
    unmet: list[str] = field(default_factory=list)
    """Earlier sends of this execution (request ids) whose planned fault met no
    try of its site (a hop above gave up first): sent again, up to RESENDS."""

    @property
    def name(self) -> str:
        where = "fault-free" if self.site is None else f"{self.site} {self.fault}"
        if self.also is not None:
            where += f" + {self.also[0]} {self.also[1]}"
        return f"{self.journey}: {where}" + (" (first try)" if self.first_try else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "request_id": self.request_id,
            "site": None if self.site is None else str(self.site),
            "fault": self.fault,
            "first_try": self.first_try,
            "also": None if self.also is None else [str(self.also[0]), self.also[1]],
            "status": self.status,
            "outcome": self.outcome,
            "violations": self.violations,
            "seconds": round(self.seconds, 3),
            "unmet_sends": self.unmet,
            "calls": self.calls,
        }


def site_of(call: Mapping[str, Any]) -> Site:
    return Site(
        str(call["service"]), str(call["dependency"]), str(call["method"]), str(call["route"])
    )


def sites_of(calls: Sequence[Mapping[str, Any]]) -> list[Site]:
    """The call sites of a record tree, in the order they were first reached."""
    return list(_first_calls(calls))


#: How many times an execution whose planned fault met no try of its site (a
#: hop above timed out first, under load) is sent again before it is reported
#: as testing nothing. Each send is a new member request, counted and shown.
RESENDS = 2

#: The faults a client retries (an idempotent call): a failure of the first try
#: alone is retried away, and the member sees nothing.
RETRIED_FAULTS = ("refused", "reset", "hang", "500", "503")


def retried_sites(calls: Sequence[Mapping[str, Any]]) -> list[Site]:
    """The sites whose calls the kit retries: idempotent (a GET, or a keyed write)."""
    return [
        site
        for site, call in _first_calls(calls).items()
        if is_idempotent(site.method, None) or call.get("keyed")
    ]


def _first_calls(calls: Sequence[Mapping[str, Any]]) -> dict[Site, Mapping[str, Any]]:
    first: dict[Site, Mapping[str, Any]] = {}
    for call in flatten(calls):
        first.setdefault(site_of(call), call)
    return first


def _acted(site: Site, fault: str, calls: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a try of `site` met `fault` (its record names it)."""
    return any(site_of(c) == site and c.get("fault") == fault for c in flatten(calls))


def retried_away(
    site: Site, calls: Sequence[Mapping[str, Any]], outcome: str, fault_free: str
) -> list[str]:
    """A failed first try of an idempotent call must be retried, unseen by the member."""
    found = []
    tries = [call for call in flatten(calls) if site_of(call) == site]
    if not any(int(c.get("attempt") or 1) > 1 for c in tries):
        found.append(f"{site}: its first try failed and it was not retried")
    if outcome != fault_free:
        found.append(f"the member got {outcome}, not {fault_free} as without the fault")
    return found


def pairs_after(
    singles: Sequence[Execution],
) -> list[tuple[Site, str, tuple[Site, str]]]:
    """Depth 2: for each every-try single fault, each other site its execution still
    reached, with every fault; each unordered pair once. A site an earlier fault
    removed from the execution is not reached, so not paired."""
    seen: set[frozenset[tuple[Site, str]]] = set()
    found = []
    for single in singles:
        if single.site is None or single.fault is None or single.first_try:
            continue
        for other in sites_of(single.calls):
            if other == single.site:
                continue
            for fault in FAULTS:
                key = frozenset({(single.site, single.fault), (other, fault)})
                if key not in seen:
                    seen.add(key)
                    found.append((single.site, single.fault, (other, fault)))
    return found


class Explorer:
    def __init__(
        self,
        base_urls: Mapping[str, str],
        token: str,
        contract: Contract,
        attempts: Mapping[str, int],
        *,
        concurrency: int = 4,
        depth: int = 1,
        progress: Callable[[Execution], None] | None = None,
    ) -> None:
        if depth not in (1, 2):
            raise ValueError(f"depth must be 1 or 2, got {depth}")
        self._depth = depth
        self._urls = dict(base_urls)
        self._token = token
        self._contract = contract
        self._attempts = dict(attempts)
        self._limit = asyncio.Semaphore(concurrency)
        self._progress = progress or (lambda execution: None)
        self.exploration = f"x{secrets.token_hex(3)}"
        self._count = 0
        self._title = 1

    async def explore(self, journeys: Sequence[str]) -> list[Execution]:
        timeout = aiohttp.ClientTimeout(total=MEMBER_DEADLINE_MS / 1000 + 3)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self._title = await self._pick_title(session)
            found = await asyncio.gather(*(self._journey(session, j) for j in journeys))
        return [execution for executions in found for execution in executions]

    async def _pick_title(self, session: aiohttp.ClientSession) -> int:
        url = self._urls["catalog"] + "/popular?region=US&limit=100"
        try:
            async with session.get(url) as response:
                return pick_title(await response.json(content_type=None))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ExploreFailed(f"cannot pick a title to play from {url}: {exc}") from None

    async def _journey(self, session: aiohttp.ClientSession, journey: str) -> list[Execution]:
        baseline = await self._execute(session, journey, None, None)
        entry = request_for(journey, self.exploration, 0).service
        callees = [dependency for caller, dependency in EDGES if caller == entry]
        if baseline.outcome == "ok" and callees and not baseline.calls:
            raise ExploreFailed(
                f"{journey}: {entry} calls {', '.join(callees)}, but the fault-free request"
                " recorded no call: the stack did not honour the fault plan (is the control"
                " token the stack's?), so nothing could be explored"
            )
        if baseline.outcome != "ok":
            baseline.violations.append(
                f"the fault-free execution was {baseline.outcome}, not ok: the stack is not"
                " steady (a fault rule on every cohort, a breaker open?), so no fault of this"
                " journey was explored"
            )
            return [baseline]
        sites = sites_of(baseline.calls)
        retried = retried_sites(baseline.calls)
        faulted = await asyncio.gather(
            *(self._execute(session, journey, site, fault) for site in sites for fault in FAULTS),
            *(
                self._execute(session, journey, site, fault, first_try=True, expect=baseline)
                for site in retried
                for fault in RETRIED_FAULTS
            ),
        )
        pairs: list[Execution] = []
        if self._depth == 2:
            pairs = await asyncio.gather(
                *(
                    self._execute(session, journey, site, fault, also=also)
                    for site, fault, also in pairs_after(faulted)
                )
            )
        return [baseline, *faulted, *pairs]

    async def _execute(
        self,
        session: aiohttp.ClientSession,
        journey: str,
        site: Site | None,
        fault: str | None,
        *,
        first_try: bool = False,
        expect: Execution | None = None,
        also: tuple[Site, str] | None = None,
    ) -> Execution:
        faults = []
        if site is not None and fault is not None:
            attempt = 1 if first_try else None
            faults = [
                PlanFault(site.service, site.dependency, fault, site.route, site.method, attempt)
            ]
        if also is not None:
            other, second = also
            faults.append(
                PlanFault(other.service, other.dependency, second, other.route, other.method)
            )
        unmet: list[str] = []
        while True:
            execution = await self._send_once(journey, session, faults, site, fault)
            execution.first_try, execution.also, execution.unmet = first_try, also, unmet
            if site is None or fault is None or _acted(site, fault, execution.calls):
                break
            if len(unmet) == RESENDS:
                sends = f"{len(unmet) + 1} sends"
                execution.violations.append(
                    f"the fault {fault} met no try of {site} in {sends}: nothing tested"
                )
                break
            unmet.append(execution.request_id)
        edges = [site.edge] if site is not None else []
        if also is not None:
            edges.append(also[0].edge)
        outcome, calls = execution.outcome, execution.calls
        if site is not None and expect is not None:
            execution.violations += retried_away(site, calls, outcome, expect.outcome)
        elif site is not None and not self._contract.accepts_together(journey, edges, outcome):
            allowed = "; ".join(
                f"{edge}: {', '.join(self._contract.allowed_for(journey, edge))}" for edge in edges
            )
            execution.violations.append(f"the member got {outcome}; the contract allows {allowed}")
        execution.violations += rule_violations(execution.status, calls, self._attempts)
        self._progress(execution)
        return execution

    async def _send_once(
        self,
        journey: str,
        session: aiohttp.ClientSession,
        faults: list[PlanFault],
        site: Site | None,
        fault: str | None,
    ) -> Execution:
        """One member request carrying the plan of `faults`."""
        self._count += 1
        n = self._count
        request = request_for(journey, self.exploration, n, self._title)
        plan = sign_plan(self._token, self.exploration, faults)
        request_id = f"{self.exploration}-{n}"
        async with self._limit:
            started = time.monotonic()
            status, body, upstream, calls = await self._send(session, request, plan, request_id)
            seconds = time.monotonic() - started
        outcome = outcome_of(status, body, upstream).name
        return Execution(journey, request_id, site, fault, status, outcome, calls, seconds)

    async def _send(
        self, session: aiohttp.ClientSession, request: Request, plan: str, request_id: str
    ) -> tuple[int | None, Any, str | None, list[dict[str, Any]]]:
        headers = {
            PLAN_HEADER: plan,
            REQUEST_ID_HEADER: request_id,
            DEADLINE_HEADER: str(MEMBER_DEADLINE_MS),
            **dict(request.headers),
        }
        url = self._urls[request.service] + request.path
        try:
            async with session.request(
                request.method, url, json=request.body, headers=headers
            ) as response:
                body = await response.json(content_type=None)
                calls = calls_below(response.headers)
                upstream = response.headers.get(UPSTREAM_FAILURE_HEADER)
                return response.status, body, upstream, calls
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None, None, None, []


async def explore(
    base_urls: Mapping[str, str],
    token: str,
    contract: Contract,
    journeys: Sequence[str],
    attempts: Mapping[str, int],
    *,
    concurrency: int = 4,
    depth: int = 1,
    progress: Callable[[Execution], None] | None = None,
) -> tuple[str, list[Execution]]:
    """(the exploration's id, every execution) of `journeys` against the stack at `base_urls`."""
    explorer = Explorer(
        base_urls,
        token,
        contract,
        attempts,
        concurrency=concurrency,
        depth=depth,
        progress=progress,
    )
    return explorer.exploration, await explorer.explore(journeys)
