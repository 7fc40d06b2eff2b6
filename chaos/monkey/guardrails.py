"""When the monkey must not act: the stack's error budget is burning.

Each `interval` the guard reads the stack's Prometheus:

- the SLO alerts that page (`ALERTS{alertstate="firing", severity="page"}`
  of the rules in compose/prometheus/rules/alerts.yml: the multiwindow
  burn-rate alerts, playback starts failing, a target down), and
- the error-budget burn of every service over `budget_window` seconds,
  computed from the services' own request counters (not from the recording
  rules, which Prometheus evaluates only every 5 s): the share of requests
  answered 5xx (or dropped) divided by the share the objective allows
  (0.5% for the stacks' 99.5%). A burn of 1 spends the budget exactly on
  time; `max_burn` (14.4 by default, the fast-burn alert's factor) is the
  most the monkey tolerates.

Either one halts the monkey: it rolls back what it holds and starts nothing.
It resumes only once neither has been seen for `recover_for` seconds in a
row. A Prometheus that does not answer, or answers an error, halts it too:
a guard that cannot see is not a guard; so does a stack whose services served
no request in the budget window (no traffic, or a Prometheus that does not
scrape them): a burn nobody can measure is not a burn of zero.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from services.topology import Metric

__all__ = [
    "Guard",
    "GuardReading",
    "GuardSettings",
    "failed_share_query",
    "guard_on",
    "read_guard",
]

#: Routes that are not member traffic (the same as the recording rules leave out).
_NOT_TRAFFIC = "/healthz|/readyz|/metrics|/_chaos.*"


@dataclass(frozen=True)
class GuardSettings:
    max_burn: float = 14.4
    budget_window_s: float = 60.0
    objective: float = 99.5  # percent of requests answered without a 5xx
    recover_for_s: float = 60.0
    interval_s: float = 1.0
    #: halt on the stack's paging alerts too (they look back 5 min to 1 h, so they
    #: still fire for minutes after an earlier incident or experiment)
    alerts: bool = True

    def __post_init__(self) -> None:
        if not self.max_burn > 0:
            raise ValueError("--max-burn must be above 0")
        if not 1 <= self.budget_window_s <= 3600:
            raise ValueError("--budget-window must be 1s to 1h")
        if not 0 < self.objective < 100:
            raise ValueError("the objective must be above 0% and under 100%")
        if self.recover_for_s < 0:
            raise ValueError("--recover-for must be 0s or more")

    def burn_query(self) -> str:
        """Each service's burn over the budget window, from its request counters."""
        window = f"{round(self.budget_window_s * 1000)}ms"
        allowed = (100.0 - self.objective) / 100.0
        return f"({failed_share_query(window)}) / {allowed:g}"


def failed_share_query(window: str) -> str:
    """PromQL: each service's share (0 to 1) of member requests over `window` answered
    with a 5xx or dropped (0 when it served some and failed none)."""
    served = f'{Metric.HTTP_REQUESTS}{{route!~"{_NOT_TRAFFIC}"}}'
    failed = f'{Metric.HTTP_REQUESTS}{{route!~"{_NOT_TRAFFIC}",status=~"5..|dropped"}}'
    return (
        f"(sum by (service) (rate({failed}[{window}]))"
        f" or sum by (service) (rate({served}[{window}])) * 0)"
        f" / sum by (service) (rate({served}[{window}]))"
    )


ALERTS_QUERY = 'ALERTS{alertstate="firing",severity="page"}'


@dataclass(frozen=True)
class GuardReading:
    """One look at the stack: what burns, what fires, or why nothing could be seen."""

    burns: dict[str, float] = field(default_factory=dict)  # service -> burn (traffic only)
    alerts: tuple[str, ...] = ()  # "AlertName service" of each firing alert
    error: str = ""  # Prometheus could not be read: the guard is blind

    def reasons(self, settings: GuardSettings) -> list[str]:
        """Why the monkey must halt now (empty: it may act)."""
        if self.error:
            return [f"the guard cannot read Prometheus: {self.error}"]
        why = [f"alert {a} is firing" for a in self.alerts]
        window = f"{settings.budget_window_s:g}s"
        why += [
            f"{service} burns its error budget {burn:.1f}x over {window} "
            f"(at most {settings.max_burn:g}x)"
            for service, burn in sorted(self.burns.items())
            if burn > settings.max_burn
        ]
        return why

    def to_json(self) -> dict[str, Any]:
        return {"burns": {k: round(v, 3) for k, v in self.burns.items()},
                "alerts": list(self.alerts), "error": self.error}  # fmt: skip


class Guard:
    """Halted or clear, from a stream of readings; resumes after `recover_for_s` clear."""

    def __init__(self, settings: GuardSettings) -> None:
        self.settings = settings
        self.halted = False
        self.reasons: list[str] = []
        self._clear_since: float | None = None

    def observe(self, now: float, reading: GuardReading) -> str | None:
        """Take one reading at `now` (monotonic seconds): "halt" when the monkey must halt
        now, "resume" when it may act again, None when nothing changes."""
        why = reading.reasons(self.settings)
        if why:
            self._clear_since = None
            self.reasons = why
            if not self.halted:
                self.halted = True
                return "halt"
            return None
        if not self.halted:
            return None
        if self._clear_since is None:
            self._clear_since = now
        if now - self._clear_since >= self.settings.recover_for_s:
            self.halted = False
            self.reasons = []
            self._clear_since = None
            return "resume"
        return None

    def clear_for(self, now: float) -> float:
        """How long the readings have been clear while halted (0 when not)."""
        return 0.0 if self._clear_since is None else now - self._clear_since


async def read_guard(
    session: aiohttp.ClientSession,
    url: str,
    settings: GuardSettings,
    *,
    clock: Callable[[], float] = time.time,
    timeout: float = 2.0,
) -> GuardReading:
    """One reading from the Prometheus at `url`; its failure is in the reading's error."""
    try:
        burns = await _vector(session, url, settings.burn_query(), clock(), timeout)
        alerts = []
        if settings.alerts:
            alerts = await _vector(session, url, ALERTS_QUERY, clock(), timeout)
    except _Unreadable as error:
        return GuardReading(error=str(error))
    measured = {labels.get("service", "?"): v for labels, v in burns if not math.isnan(v)}
    if not measured:
        return GuardReading(
            error=f"no service served a request in the last {settings.budget_window_s:g}s "
            "(no traffic, or the services are not scraped): the burn cannot be measured"
        )
    return GuardReading(
        burns=measured,
        alerts=tuple(
            sorted(
                " ".join(x for x in (labels.get("alertname", "?"), labels.get("service", "")) if x)
                for labels, _ in alerts
            )
        ),
    )


class _Unreadable(Exception):
    pass


async def _vector(
    session: aiohttp.ClientSession, url: str, promql: str, at: float, timeout: float
) -> list[tuple[dict[str, str], float]]:
    params = {"query": promql, "time": f"{at:.3f}"}
    try:
        async with session.get(
            f"{url.rstrip('/')}/api/v1/query",
            params=params,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            status = response.status
            try:
                body: Any = await response.json(content_type=None)
            except ValueError:
                body = None
    except (aiohttp.ClientError, TimeoutError) as error:
        raise _Unreadable(f"{url} did not answer ({type(error).__name__}: {error})") from error
    if not isinstance(body, dict) or body.get("status") != "success":
        detail = body.get("error") if isinstance(body, dict) else "no JSON"
        raise _Unreadable(f"{url} answered HTTP {status}: {detail}")
    data = body.get("data") or {}
    if data.get("resultType") != "vector":
        raise _Unreadable(f"{url} answered a {data.get('resultType')}, not a vector")
    found: list[tuple[dict[str, str], float]] = []
    for series in data.get("result") or []:
        try:
            found.append((dict(series["metric"]), float(series["value"][1])))
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise _Unreadable(f"{url} answered a malformed series: {series!r}") from error
    return found


def guard_on(
    session: aiohttp.ClientSession, url: str, settings: GuardSettings
) -> tuple[Guard, Callable[[], Awaitable[GuardReading]]]:
    """A guard with `settings` and its reader of the Prometheus at `url`."""

    async def read() -> GuardReading:
        return await read_guard(session, url, settings)

    return Guard(settings), read
