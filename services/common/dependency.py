"""The one client every outgoing call goes through.

Wrapping, outermost first: retry budget and retries (tenacity; idempotent
requests only; only connection errors, timeouts and 5xx, never a 5xx carrying
the upstream-failure header, see upstream_failure.py) -> bulkhead ->
circuit breaker -> per-try timeout -> application-layer faults of the edge ->
the request. The fallback is the caller's, on `DependencyError`.

The bulkhead sits just outside the breaker: a call refused by a full bulkhead
says nothing about the dependency's health, so it must count as neither a
success nor a failure of the dependency, and outside the breaker it does.

What each try's end means to the breaker (see breaker.py for the rules):

- failure: connection error, the per-try timeout, 5xx, 429, an answer over
  ``max_body_bytes`` (`ResponseTooLarge`);
- success: any other answer, 4xx included, and a 5xx naming an upstream
  failure (`UpstreamFailed`, outcome ``upstream_failed``): the dependency
  answered, and its own dependency's failure is judged by its own breaker
  (upstream_failure.py says why);
- neutral: the caller cancelled (outcome ``cancelled``); the caller's own
  deadline cut the try below the judging floor and it ran out, or left less
  than 1 ms to send, or the dependency answered 504 saying the budget we sent
  it ran out (`DeadlineExceeded`, outcome ``deadline``); our own code raised
  (outcome ``internal``).

Each try's timer and the budget it sends (``X-Deadline-Ms``) come from the
request's remaining deadline so that all of a call's tries fit inside it
(timeouts.py states the rule). The stages are separate methods, outermost
first: `request` and `_retry` (retries and their budget), `_deadline`
(the try's timer), `_bulkhead`, `_breaker`, `_timeout`, then `_send`.

Fast path: the first try runs outside tenacity (only a retriable failure
enters its loop), and the per-try timeout is the one timer of a try.

A request carrying a signed fault plan (fault_plans.py) meets its faults in
`_send`, inside the breaker and the per-try timeout; so that it touches no
other request, a try its plan faulted is neutral to the shared breaker, and
its call's retries neither spend nor feed the shared retry budget.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from . import context, mutants
from .breaker import Clock, make_breaker
from .corrupt import DIGEST_HEADER, digest_matches, digest_of
from .errors import (
    BulkheadFull,
    DeadlineExceeded,
    DependencyError,
    DependencyHTTPError,
    DependencyOverloaded,
    DependencyTimeout,
    DependencyUnavailable,
    ResponseTooLarge,
    RetryBudgetExhausted,
    UpstreamFailed,
)
from .exchange import Response, decode, raise_for_status, read_body
from .fault_plans import CALLS_HEADER, CallRecord, PlanFault, route_template
from .faults import FaultRegistry, FaultRule, HangEnd
from .guards import Bulkhead, RetryBudget
from .metrics import REACHED_OUTCOMES, Metrics
from .settings import DependencySettings
from .timeouts import MIN_SENT_S, TryTimeout, retry_fits, try_timeout

# the idempotent methods of RFC 9110 (section 9.2.2) that the kit sends
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRIABLE = (DependencyUnavailable, DependencyTimeout, DependencyHTTPError)
# our own deadline; 429 (overload); a 5xx naming an upstream failure (the hop
# nearest that failure has already retried it)
NEVER_RETRIED = (DeadlineExceeded, DependencyOverloaded, UpstreamFailed)
NO_PER_TRY_TIMEOUT_S = 3600.0  # what a try waits with the no-per-try-timeout mutant
NO_SESSION_TIMEOUT = aiohttp.ClientTimeout()  # the per-try asyncio.timeout is the one timer


def has_idempotency_key(headers: Mapping[str, str] | None) -> bool:
    return any(k.lower() == "idempotency-key" for k in (headers or {}))


def is_idempotent(method: str, headers: Mapping[str, str] | None) -> bool:
    return method.upper() in IDEMPOTENT_METHODS or has_idempotency_key(headers)


def is_retriable(exc: BaseException) -> bool:
    """Connection errors, the dependency's timeouts and 5xx; not 429, not our
    deadline, never a 5xx that says an upstream failed."""
    return isinstance(exc, RETRIABLE) and not isinstance(exc, NEVER_RETRIED)


class Call(NamedTuple):
    """One outgoing call, as every stage of a try sees it (a tuple: it is made per call)."""

    method: str
    path: str
    json: Any
    params: Mapping[str, str] | None
    headers: Mapping[str, str] | None


class Try(NamedTuple):
    """One try of a call: its number, and what a request's fault plan says of it."""

    call: Call
    attempt: int
    fault: PlanFault | None
    record: CallRecord | None


def calls_below(headers: Mapping[str, str]) -> list[dict[str, Any]]:
    """The tries a dependency's answer says it made (`X-Chaosbed-Calls`); [] if none."""
    text = headers.get(CALLS_HEADER)
    if not text:
        return []
    try:
        calls = json.loads(text)
    except ValueError:
        return []
    return [c for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []


class Dependency:
    def __init__(
        self,
        settings: DependencySettings,
        *,
        session: aiohttp.ClientSession,
        metrics: Metrics,
        faults: FaultRegistry,
        clock: Clock = time.monotonic,
    ) -> None:
        """`clock` runs the breaker's reset timeout and window and the retry
        budget (a test drives it instead of waiting)."""
        self.name = settings.name
        self.settings = settings
        self._session = session
        self._faults = faults
        self._url = settings.base_url
        self.bulkhead = Bulkhead(settings.bulkhead_size)
        self.budget = RetryBudget(
            settings.retry_budget_ratio,
            settings.retry_budget_min_per_s,
            settings.retry_budget_window_s,
            clock,
        )
        self.breaker = make_breaker(
            metrics,
            settings.name,
            fail_max=settings.breaker_fail_max,
            failure_rate=settings.breaker_failure_rate,
            min_calls=settings.breaker_min_calls,
            window_s=settings.breaker_window_s,
            reset_s=settings.breaker_reset_s,
            half_open_calls=settings.breaker_half_open_calls,
            clock=clock,
        )
        self._metrics = metrics.register_dependency(settings.name)
        self._metrics_root = metrics
        self.service = metrics.service

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
        if not path.startswith("/"):  # our bug, not the dependency's: never sent, never counted
            raise ValueError(f"{self.name}: path {path!r} must start with '/'")
        if idempotent is None:
            idempotent = is_idempotent(method, headers)
        idempotent = idempotent or mutants.active("retry-non-idempotent")
        tries = self.settings.attempts if idempotent else 1
        call = Call(method, path, json, params, headers)
        try:
            return await self._try_once(call, 1, tries)
        except DependencyError as exc:
            if tries <= 1 or not is_retriable(exc) or mutants.active("no-retries"):
                raise
            first_failure = exc
        return await self._retry(first_failure, call)

    async def _retry(
        self,
        first_failure: DependencyError,
        call: Call,
    ) -> Response:
        """Tries 2..attempts, in tenacity's loop; its first attempt replays the first failure."""
        attempts = self.settings.attempts
        budget_refused = False
        pending: DependencyError | None = first_failure
        last = first_failure

        def stop(state: RetryCallState) -> bool:
            nonlocal budget_refused
            if state.attempt_number >= attempts:
                return True
            if self.breaker.current_state == "open":
                return True  # the failure tripped the breaker: a retry would only meet it
            if not self._retry_fits(state.upcoming_sleep or 0):
                return True  # no time left for a try that could judge the dependency
            ctx = context.current()
            if ctx is not None and ctx.plan is not None:
                return False  # a plan's request neither spends nor feeds the shared budget
            if not self.budget.try_spend():
                budget_refused = True
                self._metrics.calls[RetryBudgetExhausted.outcome].inc()
                return True
            return False  # the budget holds this retry; it is counted once sent

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
                    if pending is not None:
                        replayed, pending = pending, None
                        raise replayed
                    if not self._retry_fits(0):
                        # the backoff overran (a stalled loop): this try would be cut
                        # below the judging floor, so it is not sent; the last failure stands
                        raise last
                    self._metrics.retries.inc()  # after the backoff: a cancelled wait sends none
                    number = attempt.retry_state.attempt_number
                    try:
                        return await self._try_once(call, number, attempts)
                    except DependencyError as exc:
                        last = exc
                        raise
        except DependencyError as exc:
            if budget_refused:
                message = f"retry budget exhausted after: {exc}"
                raise RetryBudgetExhausted(self.name, message) from exc
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _retry_fits(self, sleep_s: float) -> bool:
        """Whether a retry after `sleep_s` of backoff still has the judging floor
        within the current request's deadline (timeouts.py); always, without one."""
        ctx = context.current()
        if ctx is None:
            return True
        return retry_fits(self.settings, ctx.remaining_s(), sleep_s, ctx.budget_s)

    async def _try_once(self, call: Call, attempt: int, tries: int) -> Response:
        started = time.monotonic()
        outcome = "internal"  # unless it ends as one of the outcomes below
        tried = self._planned(call, attempt)
        try:
            response = await self._guarded(tried, tries)
            outcome = "success"
            return response
        except DependencyError as exc:
            outcome = exc.outcome
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:  # only tries that reached the dependency are timed (metrics.py)
            self._metrics.try_ended(outcome, time.monotonic() - started, retry=attempt > 1)
            if tried.record is not None:
                tried.record.outcome = outcome
            if attempt == 1 and outcome in REACHED_OUTCOMES and tried.record is None:
                # the budget's denominator: calls that reached the dependency, as the
                # runner judges it (a short-circuited or rejected call buys no retry)
                self.budget.record_request()

    def _planned(self, call: Call, attempt: int) -> Try:
        """This try, with the fault a request's signed fault plan names for it and its
        record (fault_plans.py); a request without a plan pays one lookup."""
        ctx = context.current()
        if ctx is None or ctx.plan is None:
            return Try(call, attempt, None, None)
        method = call.method.upper()
        route = route_template(self.name, call.path)
        fault = ctx.plan.fault_for(self.service, self.name, route, method, attempt)
        record = None
        if ctx.calls is not None:
            keyed = has_idempotency_key(call.headers)
            named = None if fault is None else fault.fault
            record = CallRecord(self.service, self.name, method, route, attempt, keyed, fault=named)
            ctx.calls.append(record)
        return Try(call, attempt, fault, record)

    async def _guarded(self, tried: Try, tries: int) -> Response:
        ctx = context.current()
        timer = self._deadline(ctx, tried.attempt, tries)
        return await self._bulkhead(timer, tried, ctx)

    def _deadline(self, ctx: context.RequestContext | None, attempt: int, tries: int) -> TryTimeout:
        """This try's timer, fitted to the request's remaining deadline (timeouts.py);
        a try that would leave its callee less than 1 ms is refused unsent."""
        remaining = ctx.remaining_s() if ctx is not None else None
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(self.name, "the request's deadline passed before sending")
        if mutants.active("no-per-try-timeout"):  # only the deadline bounds a try
            seconds = remaining if remaining is not None else NO_PER_TRY_TIMEOUT_S
            timer = TryTimeout(seconds, seconds, remaining is None)  # cut by the deadline
        else:
            budget = ctx.budget_s if ctx is not None else None
            timer = try_timeout(self.settings, remaining, attempt, tries, budget)
        if timer.sent_s < MIN_SENT_S:
            message = f"{timer.sent_s * 1000:.3f} ms of the deadline left: too little to send"
            raise DeadlineExceeded(self.name, message)
        return timer

    async def _bulkhead(
        self,
        timer: TryTimeout,
        tried: Try,
        ctx: context.RequestContext | None,
    ) -> Response:
        """Bounded concurrency, failing fast; outside the breaker (see the module docstring)."""
        if not self.bulkhead.try_enter():
            raise BulkheadFull(self.name, f"{self.bulkhead.size} calls already in flight")
        try:
            return await self._breaker(timer, tried, ctx)
        finally:
            self.bulkhead.leave()

    async def _breaker(
        self,
        timer: TryTimeout,
        tried: Try,
        ctx: context.RequestContext | None,
    ) -> Response:
        """The circuit breaker's verdict on this try: success, failure or neutral."""
        breaker = self.breaker
        permit = breaker.admit()
        verdict: bool | None = None  # True: success, False: failure, None: neutral
        try:
            response = await self._timeout(timer, tried, ctx)
            verdict = True
            return response
        except (UpstreamFailed, DeadlineExceeded) as exc:
            # it answered that its own dependency failed: not it (a success);
            # or our deadline, not it, ran out: neutral
            verdict = True if isinstance(exc, UpstreamFailed) else None
            raise
        except DependencyError:
            verdict = False
            raise
        finally:
            if tried.fault is not None:
                verdict = None  # a fault of one request's plan judges no shared breaker
            if verdict:
                breaker.success(permit)
            elif verdict is None:
                breaker.release(permit)
            else:
                breaker.failure(permit)

    async def _timeout(
        self,
        timer: TryTimeout,
        tried: Try,
        ctx: context.RequestContext | None,
    ) -> Response:
        """The per-try timer; a try the deadline cut below the judging floor is neutral."""
        try:
            async with asyncio.timeout(timer.seconds):
                return await self._send(tried, ctx, timer.sent_s)
        except TimeoutError:
            if not timer.judges:
                message = f"the request's deadline ran out after {timer.seconds:.3f}s"
                raise DeadlineExceeded(self.name, message) from None
            raise DependencyTimeout(self.name, f"no answer within {timer.seconds:.3f}s") from None

    async def _send(
        self,
        tried: Try,
        ctx: context.RequestContext | None,
        sent_s: float,
    ) -> Response:
        if tried.fault is not None:
            return await self._act(tried.fault)
        call = tried.call
        cohort = ctx.cohort if ctx else "none"
        rule = self._faults.match_edge(self.name, cohort)
        corrupt = None
        if rule is not None and rule.kind == "corrupt":
            corrupt = rule
        elif rule is not None:
            injected = await self._inject(rule)
            if injected is not None:
                return injected
        out_headers = ctx.outgoing_headers() if ctx else {}
        if not mutants.active("deadline-not-forwarded"):
            out_headers[context.DEADLINE_HEADER] = str(int(sent_s * 1000))  # what this try waits
        if call.headers:
            out_headers.update(call.headers)
        body = None
        if call.json is not None:  # signed as sent, then perhaps corrupted on the way
            body = json.dumps(call.json).encode()
            out_headers["Content-Type"] = "application/json"
            out_headers[DIGEST_HEADER] = digest_of(body)
            if corrupt is not None and corrupt.message == "request":
                body = self._faults.corrupted(corrupt, body)
        try:
            async with self._session.request(
                call.method,
                self._url + call.path,
                data=body,
                params=call.params,
                headers=out_headers,
                timeout=NO_SESSION_TIMEOUT,
            ) as resp:
                status = resp.status
                raw = await read_body(resp, self.settings.max_body_bytes, self.name)
                resp_headers = dict(resp.headers)
        except aiohttp.ClientError as exc:
            raise DependencyUnavailable(self.name, f"{type(exc).__name__}: {exc}") from None
        except OSError as exc:
            raise DependencyUnavailable(self.name, f"{type(exc).__name__}: {exc}") from None
        if tried.record is not None:
            tried.record.calls = calls_below(resp_headers)
        if corrupt is not None and corrupt.message == "response":
            raw = self._faults.corrupted(corrupt, raw)
        if not digest_matches(raw, resp_headers):
            message = "answer corrupted on the way: it does not match its Content-Digest"
            raise DependencyUnavailable(self.name, message)
        raise_for_status(self.name, status, resp_headers)
        return Response(status=status, data=decode(raw), headers=resp_headers)

    async def _act(self, fault: PlanFault) -> Response:
        """Act out a fault of a request's fault plan, as the dependency would misbehave."""
        self._metrics_root.fault_plan_actions.labels(self.service, self.name, fault.fault).inc()
        kind = fault.fault
        if kind in ("refused", "reset"):
            raise DependencyUnavailable(self.name, f"connection {kind} (fault plan)")
        if kind == "hang":  # the per-try timeout ends the try
            await asyncio.Event().wait()
        if kind == "malformed":
            return Response(
                200, "<html>not JSON (fault plan)</html>", {"Content-Type": "text/html"}
            )
        if kind == "oversized":
            limit = self.settings.max_body_bytes
            raise ResponseTooLarge(self.name, f"answer is over max_body_bytes={limit} (fault plan)")
        raise_for_status(self.name, int(kind), {})
        raise AssertionError(f"unreachable: fault {kind} raises")

    async def _inject(self, rule: FaultRule) -> Response | None:
        """Act out a client-side fault as if the dependency had misbehaved."""
        if rule.kind == "latency":  # ends early when the rule is removed
            await self._faults.hold_while_live(rule, rule.delay_s(self._faults.rng))
            return None
        if rule.kind == "error":
            raise_for_status(self.name, rule.status, {})
            return Response(rule.status, {"error": "injected fault", "fault": rule.id})
        if rule.kind == "drop":
            raise DependencyUnavailable(self.name, "connection dropped (injected fault)")
        # hang: the per-try timeout ends it, or the rule's removal releases the call;
        # counted in the service's `hung`, and beyond `max_hung` dropped at once
        end = await self._faults.hold_hung(rule, rule.ttl_s)
        if end is HangEnd.RELEASED:
            return None
        if end is HangEnd.REFUSED:
            message = "connection dropped (injected hang over the service's max_hung)"
            raise DependencyUnavailable(self.name, message)
        raise DependencyTimeout(self.name, "hung (injected fault)")
