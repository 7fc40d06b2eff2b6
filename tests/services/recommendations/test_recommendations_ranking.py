"""Ranking is a pure function of preferences, candidates and region."""

from __future__ import annotations

from typing import cast

from services.recommendations.ranking import Row, genre_candidates_from, rank_rows
from services.vocabulary import REGIONS, Preferences, Title


def title(id_: int, genres: tuple[str, ...], rating: str = "all", pop: float = 50.0,
          regions: tuple[str, ...] = REGIONS) -> Title:  # fmt: skip
    return Title(id_, f"T{id_}", genres, rating, regions, pop, 2020, 90)


def rows(prefs: Preferences, genres: dict[str, list[Title]], popular: list[Title],
         region: str = "US", row_size: int = 10, max_genre_rows: int = 3) -> list[Row]:  # fmt: skip
    return rank_rows(
        prefs, genres, popular, region=region, row_size=row_size, max_genre_rows=max_genre_rows
    )


ADULT = Preferences("18+", favourite_genres=("horror", "comedy"))


def test_genre_rows_follow_the_members_order_of_favourites() -> None:
    horror, comedy = title(1, ("horror",)), title(2, ("comedy",))
    result = rows(ADULT, {"comedy": [comedy], "horror": [horror]}, [])
    assert [r.name for r in result] == ["Top picks in horror", "Top picks in comedy"]


def test_genre_rows_are_sorted_by_popularity() -> None:
    low, high = title(1, ("horror",), pop=1.0), title(2, ("horror",), pop=99.0)
    assert [t.id for t in rows(ADULT, {"horror": [low, high]}, [])[0].titles] == [2, 1]


def test_popular_row_keeps_the_catalogs_order() -> None:
    popular = [title(3, ("drama",), pop=1.0), title(4, ("drama",), pop=99.0)]
    assert [t.id for t in rows(ADULT, {}, popular)[0].titles] == [3, 4]


def test_titles_above_the_maturity_level_are_left_out() -> None:
    kid = Preferences("7+", favourite_genres=())
    popular = [title(1, ("drama",), "13+"), title(2, ("family",), "7+"), title(3, ("family",))]
    assert [t.id for t in rows(kid, {}, popular)[0].titles] == [2, 3]


def test_titles_not_available_in_the_region_are_left_out() -> None:
    popular = [title(1, ("drama",), regions=("JP",)), title(2, ("drama",))]
    assert [t.id for t in rows(ADULT, {}, popular, region="US")[0].titles] == [2]


def test_a_title_appears_in_one_row_only() -> None:
    both = title(1, ("horror", "comedy"))
    result = rows(ADULT, {"horror": [both], "comedy": [both]}, [both])
    assert [[t.id for t in r.titles] for r in result] == [[1]]


def test_empty_rows_are_left_out() -> None:
    assert rows(ADULT, {"horror": [], "comedy": []}, []) == []


def test_rows_hold_at_most_row_size_titles() -> None:
    popular = [title(i, ("drama",)) for i in range(1, 30)]
    assert len(rows(ADULT, {}, popular, row_size=5)[0].titles) == 5


def test_at_most_max_genre_rows_genre_rows() -> None:
    prefs = Preferences("18+", favourite_genres=("horror", "comedy", "drama"))
    genres = {g: [title(i, (g,))] for i, g in enumerate(prefs.favourite_genres, start=1)}
    assert len(rows(prefs, genres, [], max_genre_rows=2)) == 2


def test_genre_candidates_can_be_carved_out_of_a_popular_list() -> None:
    popular = [title(1, ("horror",)), title(2, ("comedy", "horror"))]
    carved = genre_candidates_from(popular, ["horror", "drama"])
    assert {g: [t.id for t in ts] for g, ts in carved.items()} == {"horror": [1, 2], "drama": []}


def test_row_json_carries_what_a_tile_needs() -> None:
    row = rows(ADULT, {}, [title(1, ("drama",))])[0]
    assert cast("list[dict[str, object]]", row.to_json()["titles"])[0].keys() >= {
        "id",
        "name",
        "genres",
        "maturity_rating",
    }
