"""catalog: titles with genres, maturity ratings, regions and popularity (a leaf service).

The closed sets and the `Title` record it serves are in `services.vocabulary`.
"""

from services.catalog.app import create_app
from services.catalog.settings import CatalogSettings

__all__ = ["CatalogSettings", "create_app"]
