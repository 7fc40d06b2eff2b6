"""The catalog's vocabulary: closed sets and the title record.

This module is the one place that defines the genres, maturity ratings and
regions of chaosbed. Catalog, profiles, recommendations and playback all
import them from here, so a value valid in one service is valid in all.

Maturity ratings are ordered from the most permissive audience ("all") to
the most restricted ("18+"). A member whose maturity level is L may watch a
title rated R when R is at or below L in that order: `maturity_allows(L, R)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GENRES: tuple[str, ...] = (
    "action",
    "animation",
    "comedy",
    "crime",
    "documentary",
    "drama",
    "family",
    "fantasy",
    "horror",
    "romance",
    "sci-fi",
    "thriller",
)

MATURITY_RATINGS: tuple[str, ...] = ("all", "7+", "13+", "16+", "18+")

REGIONS: tuple[str, ...] = (
    "AU",
    "BR",
    "CA",
    "DE",
    "ES",
    "FR",
    "GB",
    "IN",
    "JP",
    "KR",
    "MX",
    "US",
)

_MATURITY_RANK: Mapping[str, int] = {rating: rank for rank, rating in enumerate(MATURITY_RATINGS)}


def maturity_rank(rating: str) -> int:
    """Position of `rating` in MATURITY_RATINGS (0 = "all"); ValueError if unknown."""
    try:
        return _MATURITY_RANK[rating]
    except KeyError:
        raise ValueError(f"unknown maturity rating {rating!r}") from None


def maturity_allows(level: str, rating: str) -> bool:
    """True when a member at maturity `level` may watch a title rated `rating`."""
    return maturity_rank(rating) <= maturity_rank(level)


@dataclass(frozen=True)
class Title:
    """One catalog entry. `regions` and `genres` hold values of the closed sets above."""

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
        """Parse a title as the catalog serves it; ValueError names the bad field.

        For the catalog's clients (recommendations, playback), which should not
        trust a response's shape blindly.
        """
        if not isinstance(data, Mapping):
            raise ValueError("title: expected a JSON object")
        return cls(
            id=_int_field(data, "id"),
            name=_str_field(data, "name"),
            genres=_members_field(data, "genres", GENRES),
            maturity_rating=_choice_field(data, "maturity_rating", MATURITY_RATINGS),
            regions=_members_field(data, "regions", REGIONS),
            popularity=_float_field(data, "popularity"),
            year=_int_field(data, "year"),
            runtime_minutes=_int_field(data, "runtime_minutes"),
        )


def _get(data: Mapping[str, Any], field: str) -> Any:
    if field not in data:
        raise ValueError(f"{field}: missing")
    return data[field]


def _int_field(data: Mapping[str, Any], field: str) -> int:
    value = _get(data, field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field}: expected an integer")
    return value


def _float_field(data: Mapping[str, Any], field: str) -> float:
    value = _get(data, field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field}: expected a number")
    return float(value)


def _str_field(data: Mapping[str, Any], field: str) -> str:
    value = _get(data, field)
    if not isinstance(value, str):
        raise ValueError(f"{field}: expected a string")
    return value


def _choice_field(data: Mapping[str, Any], field: str, choices: tuple[str, ...]) -> str:
    value = _str_field(data, field)
    if value not in choices:
        raise ValueError(f"{field}: {value!r} is not one of {', '.join(choices)}")
    return value


def _members_field(
    data: Mapping[str, Any], field: str, choices: tuple[str, ...]
) -> tuple[str, ...]:
    value = _get(data, field)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{field}: expected a list of strings")
    unknown = [item for item in value if item not in choices]
    if unknown:
        raise ValueError(f"{field}: {unknown[0]!r} is not one of {', '.join(choices)}")
    return tuple(value)
