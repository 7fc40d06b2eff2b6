"""The one client every outgoing call goes through.

Wrapping, outermost first: retry budget and retries (tenacity; idempotent
requests only; only connection errors, timeouts and 5xx, never a 5xx carrying
the upstream-failure header, see upstream_failure.py) -> bulkhead ->
circuit breaker -> per-try timeout -> application-layer faults of the edge ->
the request. The fallback is the caller's, on `DependencyError`.

The bulkhead sits just outside the breaker (DESIGN draws it inside): a call
refused by a full bulkhead says nothing about the dependency's health, but
inside ``breaker.calling()`` pybreaker would count it as a failure (a busy
caller could trip the breaker on a healthy dependency), and excluding it with
``exclude=`` would count it as a success instead (resetting the failure count,
even closing a half-open breaker). Outside the breaker it counts as neither.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pybreaker
from multidict import CIMultiDictProxy
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from . import context
from .breaker import make_breaker
from .errors import (
    BulkheadFull,
    CircuitOpen,
    DeadlineExceeded,
    DependencyError,
    DependencyHTTPError,
    DependencyTimeout,
    DependencyUnavailable,
    RetryBudgetExhausted,
    UpstreamFailed,
)
from .faults import FaultRegistry, FaultRule
from .guards import Bulkhead, RetryBudget
from .metrics import Metrics
from .settings import DependencySettings
from .upstream_failure import UPSTREAM_FAILURE_HEADER

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRIABLE = (DependencyUnavailable, DependencyTimeout, DependencyHTTPError)


@dataclass(frozen=True)
class Response:
    status: int
    data: Any
    headers: Mapping[str, str] = field(default_factory=dict)


def is_retriable(exc: BaseException) -> bool:
    """Connection errors, timeouts and 5xx, but never a 5xx that names an upstream
    failure: the hop nearest that failure has already retried it."""
    return isinstance(exc, RETRIABLE) and not isinstance(exc, UpstreamFailed)


def is_idempotent(method: str, headers: Mapping[str, str] | None) -> bool:
    if method.upper() in IDEMPOTENT_METHODS:
        return True
    return any(k.lower() == "idempotency-key" for k in (headers or {}))


class Dependency:
    def __init__(
        self,
        settings: DependencySettings,
        *,
        session: aiohttp.ClientSession,
        metrics: Metrics,
        faults: FaultRegistry,
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self._session = session
        self._metrics = metrics
        self._faults = faults
        self.bulkhead = Bulkhead(settings.bulkhead_size)
        self.budget = RetryBudget(
            settings.retry_budget_ratio,
            settings.retry_budget_min_per_s,
            settings.retry_budget_window_s,
        )
        self.breaker = make_breaker(
            metrics, settings.name, settings.breaker_fail_max, settings.breaker_reset_s
        )
        metrics.register_dependency(settings.name)

    async def get(self, path: str, *, params: Mapping[str, str] | None = None) -> Response:
        return await self.request("GET", path, params=params)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Response:
        if idempotent is None:
            idempotent = is_idempotent(method, headers)
        attempts = self.settings.attempts if idempotent else 1
        self.budget.record_request()
        budget_refused = False

        def stop(state: RetryCallState) -> bool:
            nonlocal budget_refused
            if state.attempt_number >= attempts:
                return True
            if self.breaker.current_state == "open":
                return True  # the failure tripped the breaker: a retry would only meet it
            ctx = context.current()
            remaining = ctx.remaining_s() if ctx else None
            if remaining is not None and remaining <= (state.upcoming_sleep or 0):
                return True
            if not self.budget.try_spend():
                budget_refused = True
                self._metrics.call_outcome(self.name, RetryBudgetExhausted.outcome)
                return True
            self._metrics.retries.labels(self._metrics.service, self.name).inc()
            return False

        retrying = AsyncRetrying(
            stop=stop,
            wait=wait_exponential_jitter(
                multiplier=self.settings.backoff_s,
                max=self.settings.backoff_max_s,
                jitter=self.settings.backoff_s,
            ),
            retry=retry_if_exception(is_retriable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._try_once(method, path, json, params, headers)
        except DependencyError as exc:
            if budget_refused:
                message = f"retry budget exhausted after: {exc}"
                raise RetryBudgetExhausted(self.name, message) from exc
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _try_once(
        self,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> Response:
        started = time.monotonic()
        outcome: str | None = "success"
        try:
            return await self._guarded(method, path, json, params, headers)
        except DependencyError as exc:
            outcome = exc.outcome
            raise
        except asyncio.CancelledError:
            outcome = None  # the caller gave up: neither a success nor the dependency's fault
            raise
        finally:
            if outcome is not None:
                self._metrics.call_outcome(self.name, outcome)
                self._metrics.dependency_duration.labels(self._metrics.service, self.name).observe(
                    time.monotonic() - started
                )

    async def _guarded(
        self,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> Response:
        ctx = context.current()
        remaining = ctx.remaining_s() if ctx else None
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(self.name, "the request's deadline passed before sending")
        timeout = (
            self.settings.timeout_s
            if remaining is None
            else min(self.settings.timeout_s, remaining)
        )
        if not self.bulkhead.try_enter():
            raise BulkheadFull(self.name, f"{self.bulkhead.size} calls already in flight")
        with self.bulkhead:
            try:
                with self.breaker.calling():
                    try:
                        async with asyncio.timeout(timeout):
                            return await self._send(method, path, json, params, headers, ctx)
                    except TimeoutError:
                        message = f"no answer within {timeout:.3f}s"
                        raise DependencyTimeout(self.name, message) from None
            except pybreaker.CircuitBreakerError:
                raise CircuitOpen(self.name, "circuit breaker is open") from None

    async def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        ctx: context.RequestContext | None,
    ) -> Response:
        cohort = ctx.cohort if ctx else "none"
        rule = self._faults.match_edge(self.name, cohort)
        if rule is not None:
            injected = await self._inject(rule)
            if injected is not None:
                return injected
        out_headers = ctx.outgoing_headers() if ctx else {}
        out_headers.update(headers or {})
        try:
            async with self._session.request(
                method,
                self.settings.base_url + path,
                json=json,
                params=params,
                headers=out_headers,
            ) as resp:
                raw = await resp.read()
                status = resp.status
                resp_headers: CIMultiDictProxy[str] = resp.headers
        except aiohttp.ClientError as exc:
            raise DependencyUnavailable(self.name, f"{type(exc).__name__}: {exc}") from None
        except OSError as exc:
            raise DependencyUnavailable(self.name, f"{type(exc).__name__}: {exc}") from None
        if status >= 500:
            upstream = resp_headers.get(UPSTREAM_FAILURE_HEADER)
            if upstream:
                raise UpstreamFailed(self.name, status, upstream)
            raise DependencyHTTPError(self.name, status)
        data: Any = None
        if raw:
            try:
                data = jsonlib.loads(raw)
            except ValueError:
                data = raw.decode("utf-8", "replace")
        return Response(status=status, data=data, headers=dict(resp_headers))

    async def _inject(self, rule: FaultRule) -> Response | None:
        """Act out a client-side fault as if the dependency had misbehaved."""
        if rule.kind == "latency":
            await asyncio.sleep(rule.delay_s(self._faults.rng))
            return None
        if rule.kind == "error":
            if rule.status >= 500:
                raise DependencyHTTPError(self.name, rule.status)
            return Response(rule.status, {"error": "injected fault", "fault": rule.id})
        if rule.kind == "drop":
            raise DependencyUnavailable(self.name, "connection dropped (injected fault)")
        await asyncio.sleep(rule.ttl_s)  # hang: the per-try timeout ends it
        raise DependencyTimeout(self.name, "hung (injected fault)")
