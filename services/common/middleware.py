"""Server middlewares, each doing one thing (outermost first):

dropped connections -> context -> metrics -> errors as JSON -> deadline shedding
-> faults -> handler.

The control, health and metrics routes are never faulted or shed: an
operator must always be able to see and remove a fault.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import context
from .errors import DependencyError
from .keys import FAULTS, METRICS, SETTINGS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger(__name__)
INFRA_PREFIXES = ("/_chaos", "/healthz", "/readyz", "/metrics")
HANG_POLL_S = 0.1  # how soon a hung request notices its rule was removed
# The parser accepts dozens of methods (WebDAV and more): labels keep only these.
METRIC_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


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


@web.middleware
async def drop_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """End a dropped connection quietly, as aiohttp ends one whose client vanished.

    The transport is already aborted, so this response is never sent; raising
    on to aiohttp instead would log an error with a traceback for every drop.
    """
    try:
        return await handler(request)
    except ConnectionDropped:
        return web.Response(status=499, reason="Connection Dropped")


@web.middleware
async def context_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    ctx = context.from_headers(
        request.headers, settings.default_deadline_ms, max_deadline_ms=settings.max_deadline_ms
    )
    with context.bound(ctx):
        response = await handler(request)
    response.headers[context.REQUEST_ID_HEADER] = ctx.request_id
    return response


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path == "/metrics":
        return await handler(request)
    metrics = request.app[METRICS]
    started = time.monotonic()
    status = "500"
    try:
        response = await handler(request)
        status = str(response.status)
        return response
    except web.HTTPException as exc:
        status = str(exc.status)
        raise
    except ConnectionDropped:
        status = "dropped"
        raise
    finally:
        cohort = context.current_cohort()
        labels = (metrics.service, route_of(request), method_label(request.method), status, cohort)
        metrics.http_requests.labels(*labels).inc()
        metrics.http_duration.labels(*labels).observe(time.monotonic() - started)


def json_error(status: int, message: str, **extra: object) -> web.Response:
    return web.json_response({"error": message, "status": status, **extra}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return json_error(exc.status, exc.reason)
    except (ConnectionDropped, asyncio.CancelledError):
        raise
    except DependencyError as exc:
        log.warning("%s %s failed on a dependency: %s", request.method, request.path, exc)
        return json_error(503, "a dependency is unavailable", dependency=exc.dependency)
    except Exception:
        log.exception("unhandled error serving %s %s", request.method, request.path)
        return json_error(500, "internal error")


@web.middleware
async def deadline_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = context.current()
    if not is_infra(request) and ctx is not None:
        remaining = ctx.remaining_s()
        if remaining is not None and remaining <= 0:
            return json_error(504, "deadline exceeded before work started: request shed")
    return await handler(request)


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if is_infra(request):
        return await handler(request)
    faults = request.app[FAULTS]
    rule = faults.match_route(route_of(request), request.method, context.current_cohort())
    if rule is None:
        return await handler(request)
    if rule.kind == "latency":
        await asyncio.sleep(rule.delay_s(faults.rng))
        return await handler(request)
    if rule.kind == "error":
        return json_error(rule.status, "injected fault", fault=rule.id)
    while rule.kind == "hang" and rule in faults.active():  # until it expires or is removed
        await asyncio.sleep(min(HANG_POLL_S, max(0.0, rule.expires_at - faults.clock())))
    if request.transport is not None:
        request.transport.abort()
    raise ConnectionDropped(rule.id)


MIDDLEWARES = (
    drop_middleware,
    context_middleware,
    metrics_middleware,
    error_middleware,
    deadline_middleware,
    fault_middleware,
)
