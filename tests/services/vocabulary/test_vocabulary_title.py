"""The title record: its JSON form, and parsing it back from another service."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import InvalidField
from services.vocabulary import GENRES, MATURITY_RATINGS, MAX_TITLE_ID, REGIONS, Title

titles = st.builds(
    Title,
    id=st.integers(1, MAX_TITLE_ID),
    name=st.text(max_size=40),
    genres=st.lists(st.sampled_from(GENRES), min_size=1, max_size=3, unique=True).map(tuple),
    maturity_rating=st.sampled_from(MATURITY_RATINGS),
    regions=st.lists(st.sampled_from(REGIONS), min_size=1, unique=True).map(tuple),
    popularity=st.floats(0, 100),
    year=st.integers(1900, 2030),
    runtime_minutes=st.integers(1, 400),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
FIELDS = ("id", "name", "genres", "maturity_rating", "regions", "popularity", "year")


def sample() -> dict[str, Any]:
    return Title(7, "Seven", ("drama",), "13+", ("US", "JP"), 12.5, 2001, 95).to_json()


@given(titles)
def test_a_title_round_trips_through_json(title: Title) -> None:
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
        ("maturity_rating", 13),
        ("regions", ["ZZ"]),
        ("popularity", "high"),
        ("year", 2001.5),
        ("runtime_minutes", None),
    ],
)
def test_title_from_json_names_the_bad_field(field: str, value: Any) -> None:
    data = {**sample(), field: value}
    with pytest.raises(InvalidField, match=f"^{field}: ") as caught:
        Title.from_json(data)
    assert caught.value.field == field


def test_title_from_json_names_a_missing_field() -> None:
    data = sample()
    del data["regions"]
    with pytest.raises(ValueError, match="^regions: missing"):
        Title.from_json(data)


def test_title_from_json_refuses_a_non_object() -> None:
    with pytest.raises(ValueError, match="^title: expected a JSON object"):
        Title.from_json([1, 2])


@given(st.fixed_dictionaries({}, optional={name: JSON for name in FIELDS}) | JSON)
def test_any_json_is_a_title_or_an_error_naming_a_field(data: Any) -> None:
    try:
        Title.from_json(data)
    except InvalidField as exc:
        assert exc.field in {"title", "runtime_minutes", *FIELDS}
