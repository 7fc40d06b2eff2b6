"""catalog: titles with genres, maturity ratings, regions and popularity (a leaf service)."""

from services.catalog.model import (
    GENRES,
    MATURITY_RATINGS,
    REGIONS,
    Title,
    maturity_allows,
    maturity_rank,
)

__all__ = ["GENRES", "MATURITY_RATINGS", "REGIONS", "Title", "maturity_allows", "maturity_rank"]
