"""The closed sets every service agrees on: genres, maturity ratings, regions.

Maturity ratings are ordered from the most permissive audience ("all") to
the most restricted ("18+"). A member whose maturity level is L may watch a
title rated R when R is at or below L in that order: `maturity_allows(L, R)`.
"""

from __future__ import annotations

from collections.abc import Mapping

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
