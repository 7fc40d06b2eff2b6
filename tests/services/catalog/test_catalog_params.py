"""Request parameters: errors name the parameter as the field, limits are capped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.catalog.params import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    parse_choice,
    parse_limit,
    parse_title_id,
)
from services.common import InvalidField
from services.vocabulary import GENRES


def test_limit_defaults_when_absent_or_empty() -> None:
    assert parse_limit(None) == DEFAULT_LIMIT
    assert parse_limit("") == DEFAULT_LIMIT


def test_limit_above_the_maximum_is_capped() -> None:
    assert parse_limit(str(MAX_LIMIT + 1)) == MAX_LIMIT
    assert parse_limit("9" * 40) == MAX_LIMIT


@pytest.mark.parametrize("raw", ["0", "-3", "ten", "1.5", " 5", "5 ", "+5", "٣"])
def test_bad_limit_is_refused_naming_limit(raw: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_limit(raw)
    assert caught.value.field == "limit"


@given(st.text(max_size=30))
def test_limit_is_in_range_or_refused_for_any_text(raw: str) -> None:
    try:
        limit = parse_limit(raw)
    except InvalidField as exc:
        assert exc.field == "limit"
    else:
        assert 1 <= limit <= MAX_LIMIT


@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_title_id_parses_any_decimal_integer(value: int) -> None:
    assert parse_title_id(str(value)) == value


@pytest.mark.parametrize("raw", ["abc", "1e3", "0x10", "", "7 "])
def test_non_integer_title_id_is_refused_naming_id(raw: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_title_id(raw)
    assert caught.value.field == "id"


def test_choice_accepts_known_values_and_absence() -> None:
    assert parse_choice("genre", "drama", GENRES) == "drama"
    assert parse_choice("genre", None, GENRES) is None
    assert parse_choice("genre", "", GENRES) is None


def test_unknown_choice_is_refused_naming_the_parameter() -> None:
    with pytest.raises(InvalidField, match="^genre: 'western' is not one of") as caught:
        parse_choice("genre", "western", GENRES)
    assert caught.value.field == "genre"
