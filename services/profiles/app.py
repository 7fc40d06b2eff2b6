"""The profiles service: one replica of member preferences, durable in SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CollectorRegistry

from services.common import METRICS, READY_CHECKS, create_service_app
from services.profiles.async_store import AsyncProfileStore
from services.profiles.handlers import (
    PLAY_METRICS,
    REPLICATION_METRICS,
    REPLICATOR,
    STORE,
    WRITE_METRICS,
    WRITER,
    setup_routes,
)
from services.profiles.metrics import WriteMetrics
from services.profiles.plays import PlayMetrics
from services.profiles.replication import Replicator
from services.profiles.replication_metrics import ReplicationMetrics
from services.profiles.replication_routes import setup_replication_routes
from services.profiles.settings import ProfilesSettings
from services.profiles.writes import Writer


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    store = app[STORE]
    await store.open()
    try:
        yield
    finally:
        await store.close()


async def _replication_ctx(app: web.Application) -> AsyncIterator[None]:
    async for _ in app[REPLICATOR].run(app):
        yield


def create_app(
    settings: ProfilesSettings, *, registry: CollectorRegistry | None = None
) -> web.Application:
    """Wire a profiles replica onto a kit app; the database opens at startup, not here.

    Its peers (`settings.peers`) are kit dependencies; without peers it is a
    lone replica, home of every member.
    """
    app = create_service_app(settings.service, dependencies=settings.peers, registry=registry)
    store = AsyncProfileStore(settings.db_path, idempotency_ttl_s=settings.idempotency_ttl_s)
    name = settings.service.name
    peers = tuple(peer.name for peer in settings.peers)
    app[STORE] = store
    app[WRITE_METRICS] = WriteMetrics(name, app[METRICS].registry)
    app[PLAY_METRICS] = PlayMetrics(name, app[METRICS].registry)
    app[REPLICATION_METRICS] = ReplicationMetrics(name, peers, app[METRICS].registry)
    app[REPLICATOR] = Replicator(
        store,
        app[REPLICATION_METRICS],
        peers,
        anti_entropy_s=settings.anti_entropy_s,
        quorum_timeout_s=settings.quorum_timeout_s,
    )
    app[WRITER] = Writer(settings, store, app[REPLICATOR])

    def profile_store_open() -> bool:
        return store.is_open

    app[READY_CHECKS].append(profile_store_open)
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_replication_ctx)
    setup_routes(app)
    setup_replication_routes(app)
    return app
