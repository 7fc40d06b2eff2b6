"""Serve the client-side metrics on `GET /metrics` for Prometheus to scrape.

By default on 127.0.0.1:9095. With the docker runtime, Prometheus runs in a
container and scrapes the host, so the server binds `0.0.0.0` there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from chaos.load.errors import MetricsServerError

__all__ = ["DEFAULT_METRICS_HOST", "DEFAULT_METRICS_PORT", "create_metrics_app", "serve_metrics"]

DEFAULT_METRICS_HOST = "127.0.0.1"
DEFAULT_METRICS_PORT = 9095

REGISTRY = web.AppKey("registry", CollectorRegistry)


async def _metrics(request: web.Request) -> web.Response:
    payload = generate_latest(request.app[REGISTRY])
    return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_metrics_app(registry: CollectorRegistry) -> web.Application:
    app = web.Application()
    app[REGISTRY] = registry
    app.router.add_get("/metrics", _metrics)
    return app


@asynccontextmanager
async def serve_metrics(
    registry: CollectorRegistry,
    host: str = DEFAULT_METRICS_HOST,
    port: int = DEFAULT_METRICS_PORT,
) -> AsyncIterator[str]:
    """Serve `registry` while the block runs; yields the URL of /metrics (port 0: any free port)."""
    runner = web.AppRunner(create_metrics_app(registry), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as error:
            raise MetricsServerError(
                f"cannot serve client metrics on {host}:{port}: {error.strerror or error}"
            ) from error
        bound = runner.addresses[0][1] if runner.addresses else port
        shown = "127.0.0.1" if host == "0.0.0.0" else host
        yield f"http://{shown}:{bound}/metrics"
    finally:
        await runner.cleanup()
