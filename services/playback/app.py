"""The playback service: ``POST /playback/start`` on profiles and catalog."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from services.common import METRICS, create_service_app

from .cache import TTLCache
from .handlers import PROFILE_CACHE, SETTINGS_KEY, STARTS, TITLE_CACHE, start
from .lookups import FALLBACKS
from .settings import PlaybackSettings
from .starts import StartsCounter


def create_app(
    settings: PlaybackSettings, *, registry: CollectorRegistry | None = None
) -> web.Application:
    app = create_service_app(
        settings.service, dependencies=[settings.profiles, settings.catalog], registry=registry
    )
    metrics = app[METRICS]
    metrics.register_fallbacks(FALLBACKS)
    app[SETTINGS_KEY] = settings
    app[STARTS] = StartsCounter(settings.service.name, metrics.registry)
    app[PROFILE_CACHE] = TTLCache(
        max_entries=settings.profile_cache_size, ttl_s=settings.profile_cache_ttl_s
    )
    app[TITLE_CACHE] = TTLCache(
        max_entries=settings.title_cache_size, ttl_s=settings.title_cache_ttl_s
    )
    setup_routes(app)
    return app


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/playback/start", start)
