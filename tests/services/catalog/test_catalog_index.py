"""Precomputed lookups: by id, by genre and by region, most popular first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.catalog.data import generate_catalog
from services.catalog.index import CatalogIndex
from services.vocabulary import GENRES, REGIONS, Title

TITLES = generate_catalog(1500, seed=9)
INDEX = CatalogIndex.build(TITLES)


def is_most_popular_first(titles: tuple[Title, ...]) -> bool:
    keys = [(-title.popularity, title.id) for title in titles]
    return keys == sorted(keys)


def test_get_finds_every_title_by_id() -> None:
    assert all(INDEX.get(title.id) == title for title in TITLES)


@pytest.mark.parametrize("title_id", [0, -1, 1501, 10**12])
def test_get_returns_none_outside_one_to_n(title_id: int) -> None:
    assert INDEX.get(title_id) is None


def test_popular_lists_every_title_most_popular_first() -> None:
    assert len(INDEX.popular) == INDEX.size == 1500
    assert is_most_popular_first(INDEX.popular)


@pytest.mark.parametrize("genre", GENRES)
def test_by_genre_holds_exactly_that_genres_titles_most_popular_first(genre: str) -> None:
    listed = INDEX.by_genre(genre, limit=10_000)
    assert set(listed) == {title for title in TITLES if genre in title.genres}
    assert is_most_popular_first(listed)


@pytest.mark.parametrize("region", REGIONS)
def test_popular_in_region_holds_only_titles_available_there(region: str) -> None:
    listed = INDEX.popular_in(region, limit=10_000)
    assert set(listed) == {title for title in TITLES if title.available_in(region)}
    assert is_most_popular_first(listed)


def test_limit_takes_the_top_of_the_list() -> None:
    assert INDEX.popular_in("US", 5) == INDEX.popular_by_region["US"][:5]
    assert INDEX.by_genre(None, 3) == INDEX.popular[:3]


def test_ids_must_run_from_one_to_n() -> None:
    with pytest.raises(ValueError, match="run from 1"):
        CatalogIndex.build([replace(TITLES[0], id=2)])
