"""The closed sets and the title record shared by every service."""

from __future__ import annotations

from typing import Any

import pytest

from services.catalog.data import generate_catalog
from services.catalog.model import MATURITY_RATINGS, Title, maturity_allows, maturity_rank


def test_maturity_ratings_run_from_all_ages_to_adults() -> None:
    assert MATURITY_RATINGS == ("all", "7+", "13+", "16+", "18+")
    assert [maturity_rank(r) for r in MATURITY_RATINGS] == [0, 1, 2, 3, 4]


def test_a_member_may_watch_ratings_up_to_their_level() -> None:
    assert maturity_allows("13+", "all")
    assert maturity_allows("13+", "13+")
    assert not maturity_allows("13+", "16+")
    assert maturity_allows("18+", "18+")
    assert not maturity_allows("all", "7+")


def test_unknown_maturity_rating_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown maturity rating 'PG'"):
        maturity_rank("PG")


def test_title_round_trips_through_json() -> None:
    for title in generate_catalog(200, seed=5):
        assert Title.from_json(title.to_json()) == title


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "7"),
        ("id", True),
        ("name", 3),
        ("genres", ["western"]),
        ("genres", "drama"),
        ("maturity_rating", "PG-13"),
        ("regions", ["ZZ"]),
        ("popularity", "high"),
        ("year", 2001.5),
        ("runtime_minutes", None),
    ],
)
def test_title_from_json_names_the_bad_field(field: str, value: Any) -> None:
    data = generate_catalog(1)[0].to_json()
    data[field] = value
    with pytest.raises(ValueError, match=f"^{field}: "):
        Title.from_json(data)


def test_title_from_json_names_a_missing_field() -> None:
    data = generate_catalog(1)[0].to_json()
    del data["regions"]
    with pytest.raises(ValueError, match="^regions: missing"):
        Title.from_json(data)


def test_title_from_json_refuses_a_non_object() -> None:
    with pytest.raises(ValueError, match="expected a JSON object"):
        Title.from_json([1, 2])
