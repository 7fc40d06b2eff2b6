"""The title record: what the catalog serves and its clients read.

Title ids run from 1 to at most MAX_TITLE_ID (the catalog's largest size).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import json_fields as f
from .closed_sets import GENRES, MATURITY_RATINGS, REGIONS

MAX_TITLE_ID = 1_000_000


@dataclass(frozen=True)
class Title:
    """One catalog entry. `regions` and `genres` hold values of the closed sets."""

    id: int
    name: str
    genres: tuple[str, ...]
    maturity_rating: str
    regions: tuple[str, ...]
    popularity: float
    year: int
    runtime_minutes: int

    def available_in(self, region: str) -> bool:
        return region in self.regions

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "genres": list(self.genres),
            "maturity_rating": self.maturity_rating,
            "regions": list(self.regions),
            "popularity": self.popularity,
            "year": self.year,
            "runtime_minutes": self.runtime_minutes,
        }

    @classmethod
    def from_json(cls, data: object) -> Title:
        """Parse a title as the catalog serves it; `InvalidField` (a ValueError) names it.

        For the catalog's clients (recommendations, playback), which should not
        trust a response's shape blindly.
        """
        obj = f.require_object(data, "title")
        return cls(
            id=f.int_field(obj, "id"),
            name=f.str_field(obj, "name"),
            genres=f.members_field(obj, "genres", GENRES),
            maturity_rating=f.choice_field(obj, "maturity_rating", MATURITY_RATINGS),
            regions=f.members_field(obj, "regions", REGIONS),
            popularity=f.float_field(obj, "popularity"),
            year=f.int_field(obj, "year"),
            runtime_minutes=f.int_field(obj, "runtime_minutes"),
        )
