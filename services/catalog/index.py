"""Lookups over the catalog, precomputed once so every query is a slice.

Orderings are total and stable: by popularity, highest first, then by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.vocabulary import GENRES, REGIONS, Title


def _by_popularity(titles: Iterable[Title]) -> tuple[Title, ...]:
    return tuple(sorted(titles, key=lambda title: (-title.popularity, title.id)))


@dataclass(frozen=True)
class CatalogIndex:
    titles: tuple[Title, ...]
    """All titles, by id (titles[i].id == i + 1)."""
    popular: tuple[Title, ...]
    """All titles, most popular first."""
    popular_by_genre: dict[str, tuple[Title, ...]]
    """For every genre of GENRES (empty when none has it), most popular first."""
    popular_by_region: dict[str, tuple[Title, ...]]
    """For every region of REGIONS, the titles available there, most popular first."""

    @classmethod
    def build(cls, titles: Iterable[Title]) -> CatalogIndex:
        ordered = tuple(sorted(titles, key=lambda title: title.id))
        if any(title.id != position for position, title in enumerate(ordered, start=1)):
            raise ValueError("title ids must run from 1 to the number of titles")
        popular = _by_popularity(ordered)
        return cls(
            titles=ordered,
            popular=popular,
            popular_by_genre={
                genre: tuple(title for title in popular if genre in title.genres)
                for genre in GENRES
            },
            popular_by_region={
                region: tuple(title for title in popular if region in title.regions)
                for region in REGIONS
            },
        )

    @property
    def size(self) -> int:
        return len(self.titles)

    def get(self, title_id: int) -> Title | None:
        if 1 <= title_id <= len(self.titles):
            return self.titles[title_id - 1]
        return None

    def by_genre(self, genre: str | None, limit: int) -> tuple[Title, ...]:
        """The `limit` most popular titles of `genre` (of any genre when None)."""
        source = self.popular if genre is None else self.popular_by_genre[genre]
        return source[:limit]

    def popular_in(self, region: str | None, limit: int) -> tuple[Title, ...]:
        """The `limit` most popular titles available in `region` (anywhere when None)."""
        source = self.popular if region is None else self.popular_by_region[region]
        return source[:limit]
