"""Ranking: from a member's preferences and catalog candidates to homepage rows.

Pure functions, no I/O. The rows, in order:

1. one row per favourite genre (at most `max_genre_rows`, in the member's
   order), named ``"Top picks in <genre>"``, most popular first;
2. ``"Popular in <region>"``: the regional popular list in the catalog's order.

Every row holds only titles available in the region and allowed by the
member's maturity level; a title appears in at most one row (the first that
claims it); empty rows are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.vocabulary import Preferences, Title, maturity_allows


@dataclass(frozen=True)
class Row:
    name: str
    titles: tuple[Title, ...]

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "titles": [title_json(t) for t in self.titles]}


def title_json(title: Title) -> dict[str, object]:
    """The fields of a title a homepage tile needs."""
    return {
        "id": title.id,
        "name": title.name,
        "genres": list(title.genres),
        "maturity_rating": title.maturity_rating,
        "popularity": title.popularity,
        "year": title.year,
    }


def eligible(title: Title, prefs: Preferences, region: str) -> bool:
    return title.available_in(region) and maturity_allows(
        prefs.maturity_level, title.maturity_rating
    )


def by_popularity(titles: Iterable[Title]) -> list[Title]:
    return sorted(titles, key=lambda t: (-t.popularity, t.id))


def genre_candidates_from(
    popular: Sequence[Title], genres: Iterable[str]
) -> dict[str, list[Title]]:
    """Genre candidates carved out of a popular list (used when the catalog is down)."""
    return {genre: [t for t in popular if genre in t.genres] for genre in genres}


def rank_rows(
    prefs: Preferences,
    genre_candidates: Mapping[str, Sequence[Title]],
    popular: Sequence[Title],
    *,
    region: str,
    row_size: int,
    max_genre_rows: int,
) -> list[Row]:
    shown: set[int] = set()
    rows: list[Row] = []

    def take(candidates: Iterable[Title]) -> tuple[Title, ...]:
        picked: list[Title] = []
        for title in candidates:
            if len(picked) == row_size:
                break
            if title.id in shown or not eligible(title, prefs, region):
                continue
            picked.append(title)
            shown.add(title.id)
        return tuple(picked)

    for genre in prefs.favourite_genres[:max_genre_rows]:
        candidates = by_popularity(genre_candidates.get(genre, ()))
        titles = take(t for t in candidates if genre in t.genres)
        if titles:
            rows.append(Row(f"Top picks in {genre}", titles))
    titles = take(popular)
    if titles:
        rows.append(Row(f"Popular in {region}", titles))
    return rows
