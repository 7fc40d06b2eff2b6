"""The recommendations service: homepage rows from profiles and catalog."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CollectorRegistry

from services.common import DEPENDENCIES, METRICS, create_service_app

from .handlers import FALLBACKS, POPULAR_CACHE, SETTINGS_KEY, recommendations
from .popular_cache import PopularCache
from .refresher import refresh_forever
from .settings import RecommendationsSettings


def create_app(
    settings: RecommendationsSettings, *, registry: CollectorRegistry | None = None
) -> web.Application:
    app = create_service_app(
        settings.service, dependencies=[settings.profiles, settings.catalog], registry=registry
    )
    app[SETTINGS_KEY] = settings
    app[POPULAR_CACHE] = PopularCache()
    app[METRICS].register_fallbacks(FALLBACKS)
    setup_routes(app)
    app.cleanup_ctx.append(popular_refresher)
    return app


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/recommendations/{member}", recommendations)


async def popular_refresher(app: web.Application) -> AsyncIterator[None]:
    """Seed and refresh the popular cache in the background (see refresher.py)."""
    task = asyncio.create_task(
        refresh_forever(app[DEPENDENCIES]["catalog"], app[POPULAR_CACHE], app[SETTINGS_KEY]),
        name="recommendations-popular-refresher",
    )
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
