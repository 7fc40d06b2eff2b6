"""Build a service app on the kit: middlewares, health, metrics, control API,
and one `Dependency` per downstream service opened in a cleanup context."""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypedDict

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from . import mutants
from .breaker import Clock
from .control_api import setup_control_routes
from .dependency import Dependency
from .faults import KINDS, FaultRegistry
from .keys import DEPENDENCIES, FAULTS, METRICS, READY_CHECKS, SETTINGS
from .metrics import Metrics
from .middleware import MIDDLEWARES
from .settings import DependencySettings, ServiceSettings

log = logging.getLogger(__name__)


# How the kit serves an app (`run_service`, or a `web.AppRunner(app, **SERVER_OPTIONS)`):
# handler_cancellation cancels a handler whose caller disconnected, and its
# outgoing calls with it, so no hop keeps working (and retrying) for nobody.
# (aiohttp's default is off; its own TestServer turns it on.)
class ServerOptions(TypedDict):
    handler_cancellation: bool


SERVER_OPTIONS = ServerOptions(handler_cancellation=True)
DEPENDENCY_SETTINGS = web.AppKey("dependency_settings", tuple[DependencySettings, ...])
STARTED = web.AppKey("started", list[bool])


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "service": request.app[SETTINGS].name})


async def readyz(request: web.Request) -> web.Response:
    started = request.app[STARTED][0]
    failing = [] if started else ["startup"]
    failing += [
        getattr(check, "__name__", "check") for check in request.app[READY_CHECKS] if not check()
    ]
    body = {"ready": not failing, "service": request.app[SETTINGS].name, "failing": failing}
    return web.json_response(body, status=200 if not failing else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    request.app[FAULTS].active()  # drop expired rules, so chaosbed_faults_active is current
    payload = generate_latest(request.app[METRICS].registry)
    return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})


def client_session() -> aiohttp.ClientSession:
    """The one session a service's `Dependency` clients share.

    aiohttp's client resends an idempotent request once, by itself, when the
    connection drops or resets before the answer starts (RFC 9112's
    "retrying requests"). Here that would be a second layer of retries, unseen
    by the retry budget, the metrics and the breaker: a dependency dropping
    every connection would get twice the requests counted, and a fault that
    drops half of them would look like one that drops a quarter. The kit
    retries in one place, so this session never does. aiohttp has no public
    switch for it; ``_retry_connection`` is the attribute its own test client
    sets for the same reason (a test of ours fails if it ever goes away).
    """
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=30),
        auto_decompress=True,
    )
    session._retry_connection = False
    return session


async def _dependencies_ctx(app: web.Application, clock: Clock) -> AsyncIterator[None]:
    settings = app[DEPENDENCY_SETTINGS]
    session = client_session()
    try:
        for dep in settings:
            app[DEPENDENCIES][dep.name] = Dependency(
                dep, session=session, metrics=app[METRICS], faults=app[FAULTS], clock=clock
            )
        yield
    finally:
        app[DEPENDENCIES].clear()
        await session.close()


async def _mark_started(app: web.Application) -> None:
    app[STARTED][0] = True


def create_service_app(
    settings: ServiceSettings,
    *,
    dependencies: Sequence[DependencySettings] = (),
    registry: CollectorRegistry | None = None,
    faults: FaultRegistry | None = None,
    clock: Clock = time.monotonic,
) -> web.Application:
    """The kit's part of every service app; the service adds its routes after.

    `clock` runs the dependencies' breakers and retry budgets.
    """
    mutants.switch_on(settings.mutant, settings.name)  # process-wide; loud when one is on
    app = web.Application(middlewares=MIDDLEWARES)
    metrics = Metrics(settings.name, registry)
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[FAULTS] = FaultRegistry() if faults is None else faults
    if app[FAULTS].on_change is None:  # an injected registry (clock, rng) feeds the gauge too
        app[FAULTS].on_change = _fault_gauge(metrics)
    if app[FAULTS].on_match is None:
        app[FAULTS].on_match = lambda rule: metrics.fault_matches.labels(
            metrics.service, rule.kind, rule.side
        ).inc()
    app[DEPENDENCY_SETTINGS] = tuple(dependencies)
    app[DEPENDENCIES] = {}
    app[READY_CHECKS] = []
    app[STARTED] = [False]
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    setup_control_routes(app, tuple(d.name for d in dependencies))
    app.cleanup_ctx.append(functools.partial(_dependencies_ctx, clock=clock))
    app.on_startup.append(_mark_started)
    if not settings.control_token:
        log.warning("%s: control API is off (no CHAOSBED_CONTROL_TOKEN configured)", settings.name)
    return app


def _fault_gauge(metrics: Metrics) -> Callable[[dict[str, int]], None]:
    def publish(counts: dict[str, int]) -> None:
        for kind in KINDS:
            metrics.faults_active.labels(metrics.service, kind).set(counts.get(kind, 0))

    return publish


#: How long a service lets its requests in flight finish after SIGTERM.
SHUTDOWN_TIMEOUT_S = 5.0


def configure_logging() -> None:
    level = os.environ.get("CHAOSBED_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def run_service(app: web.Application, settings: ServiceSettings) -> None:
    """Run until SIGINT or SIGTERM, then shut down gracefully."""
    log.info("%s listening on http://%s:%d", settings.name, settings.host, settings.port)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        **SERVER_OPTIONS,
    )
