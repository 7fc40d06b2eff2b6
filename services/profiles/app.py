"""The profiles service: member preferences, durable in SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CollectorRegistry

from services.common import METRICS, READY_CHECKS, create_service_app
from services.profiles.async_store import AsyncProfileStore
from services.profiles.handlers import STORE, WRITE_METRICS, setup_routes
from services.profiles.metrics import WriteMetrics
from services.profiles.settings import ProfilesSettings


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    store = app[STORE]
    await store.open()
    try:
        yield
    finally:
        await store.close()


def create_app(
    settings: ProfilesSettings, *, registry: CollectorRegistry | None = None
) -> web.Application:
    """Wire profiles onto a kit app; the database opens at startup, not here."""
    app = create_service_app(settings.service, registry=registry)
    store = AsyncProfileStore(settings.db_path, idempotency_ttl_s=settings.idempotency_ttl_s)
    app[STORE] = store
    app[WRITE_METRICS] = WriteMetrics(settings.service.name, app[METRICS].registry)

    def profile_store_open() -> bool:
        return store.is_open

    app[READY_CHECKS].append(profile_store_open)
    app.cleanup_ctx.append(_store_ctx)
    setup_routes(app)
    return app
