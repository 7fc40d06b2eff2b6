"""The catalog service: a generated catalog served from indexes built once."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from services.catalog.data import generate_catalog
from services.catalog.handlers import CATALOG, setup_routes
from services.catalog.index import CatalogIndex
from services.catalog.settings import CatalogSettings
from services.common import create_service_app


def create_app(
    settings: CatalogSettings, *, registry: CollectorRegistry | None = None
) -> web.Application:
    """Generate the catalog (pure CPU work, no I/O) and wire it onto a kit app."""
    app = create_service_app(settings.service, registry=registry)
    app[CATALOG] = CatalogIndex.build(generate_catalog(settings.size, settings.seed))
    setup_routes(app)
    return app
