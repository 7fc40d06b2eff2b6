"""Server middlewares, outermost first: the request pipeline, faults, the deadline.

`request_middleware` is one layer of small named steps, in this order:
end a dropped connection quietly -> bind the request context (and echo
``X-Request-Id``) -> record the request's metrics -> answer errors as JSON
(a dependency failure as 503 under the upstream-failure contract, the
request's own deadline running out as 504 under the deadline contract, see
upstream_failure.py) -> shed a request whose deadline has passed (504).
`fault_middleware` then acts out the route's application-layer fault, if any,
and runs the handler `within_deadline`: cancelled when the request's deadline
passes (its outgoing calls with it, each counted ``cancelled``, neutral) and
answered 504. The deadline's timer starts after the fault: an injected hang
or latency ends at the deadline with its own 504, which plays a slow service. A handler whose
caller disconnects is cancelled too: `run_service` runs the app with
aiohttp's ``handler_cancellation`` (`SERVER_OPTIONS` in server.py); such a
request is recorded with status ``cancelled``.
One layer instead of five: every layer costs a coroutine and a frame per
request, and these steps share the same context and status.

The control, health and metrics routes are never faulted or shed: an
operator must always be able to see and remove a fault.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from aiohttp import web

from services.topology import HTTP_METHODS

from . import context
from .corrupt import DIGEST_HEADER, digest_of
from .errors import DeadlineExceeded, DependencyError
from .fault_plans import CALLS_HEADER, PLAN_HEADER, read_plan
from .faults import FaultRule, HangEnd
from .keys import DEPENDENCIES, FAULTS, METRICS, SETTINGS
from .upstream_failure import mark_deadline_exceeded, mark_upstream_failure

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger(__name__)
INFRA_PREFIXES = ("/_chaos", "/healthz", "/readyz", "/metrics")
#: The corrupt rule whose request body `read_json` mangles as it arrives.
CORRUPT_REQUEST = web.RequestKey("corrupt_request", FaultRule)
# The parser accepts dozens of methods (WebDAV and more): labels keep only these.
METRIC_METHODS = frozenset(HTTP_METHODS)


class ConnectionDropped(Exception):
    """The fault middleware dropped the connection; nothing is sent."""


def method_label(method: str) -> str:
    """The method as a metrics label: a standard method, else "other" (a closed set)."""
    return method if method in METRIC_METHODS else "other"


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def is_infra(request: web.Request) -> bool:
    return request.path.startswith(INFRA_PREFIXES)


def json_error(status: int, message: str, **extra: object) -> web.Response:
    return web.json_response({"error": message, "status": status, **extra}, status=status)


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    ctx = context.from_headers(
        request.headers, settings.default_deadline_ms, max_deadline_ms=settings.max_deadline_ms
    )
    if PLAN_HEADER in request.headers:
        ctx = with_plan(request, ctx)
    started = time.monotonic()
    status = "500"
    token = context.bind(ctx)
    try:
        response = await answer(request, handler, ctx)
        status = str(response.status)
        response.headers[context.REQUEST_ID_HEADER] = ctx.request_id
        add_digest(response)
        if ctx.calls is not None and not response.prepared:
            response.headers[CALLS_HEADER] = json.dumps([c.to_json() for c in ctx.calls])
        return response
    except web.HTTPException as exc:
        status = str(exc.status)
        raise
    except asyncio.CancelledError:
        status = "cancelled"  # the caller went away: neither its success nor its failure
        raise
    except ConnectionDropped:
        # The transport is already aborted, so this response is never sent;
        # raising on to aiohttp would log an error with a traceback per drop.
        status = "dropped"
        return web.Response(status=499, reason="Connection Dropped")
    finally:
        context.unbind(token)
        if request.path != "/metrics":
            record(request, status, ctx.cohort, time.monotonic() - started)


def add_digest(response: web.StreamResponse) -> None:
    """Sign a whole JSON answer with its ``Content-Digest`` (corrupt.py)."""
    if (
        isinstance(response, web.Response)
        and not response.prepared
        and response.content_type == "application/json"
        and isinstance(response.body, bytes)
    ):
        response.headers[DIGEST_HEADER] = digest_of(response.body)


def with_plan(request: web.Request, ctx: context.RequestContext) -> context.RequestContext:
    """`ctx` with the request's fault plan when it is honoured (fault_plans.py), and
    recording its calls; an ignored plan is only counted."""
    plan, result = read_plan(request.headers[PLAN_HEADER], request.app[SETTINGS].control_token)
    request.app[METRICS].fault_plans.labels(request.app[SETTINGS].name, result).inc()
    if plan is None:
        return ctx
    return replace(ctx, plan=plan, calls=[])


def record(request: web.Request, status: str, cohort: str, seconds: float) -> None:
    """Count the request and observe its duration, by route template, method, status, cohort."""
    metrics = request.app[METRICS]
    metrics.observe_request(
        route_of(request), method_label(request.method), status, cohort, seconds
    )


async def answer(
    request: web.Request, handler: Handler, ctx: context.RequestContext
) -> web.StreamResponse:
    """The handler's answer, or its error as JSON; a request past its deadline is shed."""
    try:
        if is_past_deadline(request, ctx):
            return deadline_exceeded(request, "deadline exceeded before work started: request shed")
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return json_error(exc.status, exc.reason)
    except (ConnectionDropped, asyncio.CancelledError):
        raise
    except DeadlineExceeded as exc:  # the budget our caller sent ran out, not a dependency
        return deadline_exceeded(request, f"deadline exceeded: {exc}")
    except DependencyError as exc:
        return dependency_failed(request, exc)
    except Exception:
        log.exception("unhandled error serving %s %s", request.method, request.path)
        return json_error(500, "internal error")


def is_past_deadline(request: web.Request, ctx: context.RequestContext) -> bool:
    remaining = ctx.remaining_s()
    return remaining is not None and remaining <= 0 and not is_infra(request)


def deadline_exceeded(request: web.Request, message: str) -> web.Response:
    """504 saying our caller's budget ran out, which its client takes as its own deadline."""
    return mark_deadline_exceeded(json_error(504, message), request.app[SETTINGS].name)


def dependency_failed(request: web.Request, exc: DependencyError) -> web.Response:
    """503 naming the failed dependency, so callers do not retry it (upstream_failure.py)."""
    log.warning("%s %s failed on a dependency: %s", request.method, request.path, exc)
    response = json_error(503, "a dependency is unavailable", dependency=exc.dependency)
    client = request.app[DEPENDENCIES].get(exc.dependency)
    return mark_upstream_failure(response, exc.dependency, client)


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if is_infra(request):
        return await handler(request)
    faults = request.app[FAULTS]
    rule = faults.match_route(route_of(request), request.method, context.current_cohort())
    if rule is None:
        return await within_deadline(request, handler)
    ctx = context.current()
    deadline = ctx.deadline if ctx is not None else None
    if rule.kind == "corrupt":
        return await corrupted(request, handler, rule)
    if rule.kind == "latency":
        if await faults.delay(rule, deadline):
            return await within_deadline(request, handler)
        return json_error(504, "deadline exceeded during an injected latency", fault=rule.id)
    if rule.kind == "error":
        return json_error(rule.status, "injected fault", fault=rule.id)
    if rule.kind == "hang" and await faults.hang(rule, deadline) is HangEnd.DEADLINE:
        return json_error(504, "deadline exceeded during an injected hang", fault=rule.id)
    if request.transport is not None:
        request.transport.abort()
    raise ConnectionDropped(rule.id)


async def corrupted(request: web.Request, handler: Handler, rule: FaultRule) -> web.StreamResponse:
    """The handler under a corrupt rule: the request body mangled as `read_json`
    reads it (as if it had arrived so), or one value of the JSON answer
    mangled before it is signed (as if the service stored or served it so)."""
    if rule.message == "request":
        request[CORRUPT_REQUEST] = rule
        return await within_deadline(request, handler)
    response = await within_deadline(request, handler)
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        response.body = request.app[FAULTS].corrupted(rule, response.body)
    return response


async def within_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler, cancelled when the request's deadline passes (504 then).

    Called by `fault_middleware` for the route's handler, after any fault it
    acts out (a function, not a third middleware: a layer costs a frame per
    request)."""
    ctx = context.current()
    remaining = ctx.remaining_s() if ctx is not None else None
    if remaining is None:
        return await handler(request)
    timer = asyncio.timeout(remaining)
    try:
        async with timer:
            return await handler(request)
    except TimeoutError:
        if not timer.expired():
            raise  # the handler's own TimeoutError, not the deadline
        return deadline_exceeded(request, "deadline exceeded: the handler was cancelled")


MIDDLEWARES = (request_middleware, fault_middleware)
