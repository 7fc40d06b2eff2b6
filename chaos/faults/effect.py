"""What callers and members saw of a fault: the evidence that it bit.

A process or network fault is in place when its driver says so (a new pid,
a refused connect); it *changed something* only when someone saw it. Here a
driver names where to look (`Look`s), and `confirm` reads them from the SLI
backend over the step:

- callers: ``chaosbed_dependency_calls_total`` of a caller on the affected
  dependency with an outcome that is not a success (`FAILED_CALLS`), and
  ``chaosbed_fallbacks_total`` (served or failed) standing in for it. Calls
  short-circuited and fallbacks count only where the caller's breaker was
  closed when the fault began: a breaker a fault before it left open sheds
  calls whatever this one does (short-circuits behind a breaker the fault
  opened count). The profiles replicas call each other (pushes, anti-entropy
  pulls), so their failed replication calls count as callers seeing a
  replica go;
- members: ``chaosbed_member_requests_total`` of journeys entering a service
  that ended `error`, `timeout` or `unreachable` (the runner adds what its own
  load generator and history workload's devices saw: chaos.runner.member_evidence).

Counters advance at the next scrape, so `confirm` reads again for up to
`grace` seconds before it gives up and raises `NoEffect`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from chaos.experiment.limits import SCRAPE_INTERVALS
from chaos.slo import SliReader
from services.common.metrics import BREAKER_STATES
from services.topology import Metric

from .errors import NoEffect, NotVerified

__all__ = [
    "FAILED_CALLS",
    "FAILED_JOURNEYS",
    "Look",
    "calls",
    "confirm",
    "members",
]

#: dependency call outcomes that show a caller the dependency failing or slow
#: (``upstream_failed``, ``cancelled`` and ``internal`` say nothing of it)
FAILED_CALLS = ("error", "timeout", "rejected", "short_circuited", "budget_exhausted", "deadline")
#: member outcomes that show a member the service failing (``client_overloaded``
#: is the load generator's own cap, never sent)
FAILED_JOURNEYS = ("error", "timeout", "unreachable")
GRACE_S = 3.0
POLL_S = 0.5
#: How far before a fault began its callers' breakers are read: the slowest scrape
#: interval and a quarter, so the last scrape before it is in the window.
BREAKER_LOOKBACK_S = max(SCRAPE_INTERVALS.values()) * 1.25
#: chaosbed_circuit_breaker_state of a closed breaker, as the services export it
BREAKER_CLOSED = BREAKER_STATES["closed"]


@dataclass(frozen=True)
class Look:
    """One counter to read: `metric` with `labels`, and what an increase means."""

    metric: str
    labels: Mapping[str, str]
    what: str
    #: the breakers (chaosbed_circuit_breaker_state labels) that must have been
    #: closed when the fault began for an increase here to be the fault's
    breaker: Mapping[str, str] | None = None


def calls(caller: str | None = None, dependency: str | None = None) -> list[Look]:
    """Failed calls and fallbacks of `caller` (any when None) on `dependency` (any)."""
    scope = {k: v for k, v in (("service", caller), ("dependency", dependency)) if v}
    who = _who(scope)
    looks = [
        Look(
            Metric.DEPENDENCY_CALLS,
            {**scope, "outcome": o},
            f"{who} ended {o}",
            breaker=scope if o == "short_circuited" else None,
        )
        for o in FAILED_CALLS
    ]
    looks.append(Look(Metric.FALLBACKS, scope, f"fallbacks for {who}", breaker=scope))
    return looks


def members(service: str) -> list[Look]:
    """Member journeys entering `service` that did not end ok."""
    return [
        Look(
            Metric.MEMBER_REQUESTS,
            {"service": service, "outcome": o},
            f"member journeys entering {service} ended {o}",
        )
        for o in FAILED_JOURNEYS
    ]


async def seen(reader: SliReader, looks: Sequence[Look], since: float) -> list[tuple[Look, float]]:
    """Every look whose counter rose since `since`, with by how much."""
    values = await asyncio.gather(*(reader.increase(lk.metric, lk.labels, since) for lk in looks))
    return [(lk, v) for lk, v in zip(looks, values, strict=True) if v is not None and v > 0]


async def confirm(
    step: str,
    fault: str,
    looks: Iterable[Look],
    reader: SliReader,
    since: float,
    *,
    grace: float = GRACE_S,
    poll: float = POLL_S,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """What callers or members saw of `fault` since `since`; `NoEffect` when
    nothing within `grace` seconds. `NotVerified` when the backend cannot be read."""
    looks = list(looks)
    try:
        already_open = await open_before(reader, looks, since)
    except Exception as exc:  # noqa: BLE001 - the backend's own error, named
        raise NotVerified(step, f"could not read its callers' breakers: {exc!r}") from exc
    looks = [lk for lk in looks if lk.breaker is None or _key(lk.breaker) not in already_open]
    started = clock()
    deadline = started + grace
    while True:
        try:
            found = await seen(reader, looks, since)
        except Exception as exc:  # noqa: BLE001 - the backend's own error, named
            raise NotVerified(step, f"could not read what callers saw of it: {exc!r}") from exc
        if found:
            return "; ".join(f"{v:g} {lk.what}" for lk, v in found)
        if clock() >= deadline:
            lasted = time.time() - since
            where = sorted({lk.what for lk in looks})
            left_open = "".join(
                f"; not counted: calls short-circuited and fallbacks of {_who(dict(key))}, "
                "whose breaker was not closed when it began"
                for key in sorted(already_open)
            )
            raise NoEffect(
                step,
                f"{fault} changed nothing callers or members saw in {lasted:.0f}s "
                f"(none of: {'; '.join(where)}{left_open})",
            )
        await asyncio.sleep(poll)


async def open_before(
    reader: SliReader, looks: Sequence[Look], since: float
) -> set[tuple[tuple[str, str], ...]]:
    """The breakers of `looks` that were not closed in the last scrapes before `since`."""
    keys = sorted({_key(lk.breaker) for lk in looks if lk.breaker is not None})
    states = await asyncio.gather(
        *(
            reader.max_over(Metric.BREAKER_STATE, dict(key), since - BREAKER_LOOKBACK_S, at=since)
            for key in keys
        )
    )
    return {k for k, state in zip(keys, states, strict=True) if (state or 0.0) > BREAKER_CLOSED}


def _key(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _who(labels: Mapping[str, str]) -> str:
    caller, dependency = labels.get("service"), labels.get("dependency")
    return f"calls from {caller or 'any caller'} to {dependency or 'any dependency'}"
