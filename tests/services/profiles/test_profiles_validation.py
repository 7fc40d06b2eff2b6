"""PATCH bodies: validated in full, errors name the field."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import InvalidField
from services.profiles.model import FIELD_NAMES, PreferencesPatch
from services.profiles.validation import MAX_LANGUAGES, parse_patch
from services.vocabulary import GENRES, MATURITY_RATINGS, NEW_MEMBER_PREFERENCES

languages = st.builds(
    lambda code, region: code + region,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=3),
    st.sampled_from(["", "-BR", "-GB", "-419"]),
)
valid_values: dict[str, st.SearchStrategy[Any]] = {
    "maturity_level": st.sampled_from(MATURITY_RATINGS),
    "languages": st.lists(languages, min_size=1, max_size=MAX_LANGUAGES, unique=True),
    "subtitles": st.booleans(),
    "favourite_genres": st.lists(st.sampled_from(GENRES), max_size=len(GENRES), unique=True),
    "autoplay": st.booleans(),
}
valid_bodies = st.fixed_dictionaries({}, optional=valid_values).filter(bool)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=6,
)
wrong_values: dict[str, st.SearchStrategy[Any]] = {
    "maturity_level": json_values.filter(lambda v: v not in MATURITY_RATINGS),
    "languages": st.none() | st.just([]) | st.just(["EN"]) | st.just(["en", "en"]) | st.integers(),
    "subtitles": json_values.filter(lambda v: not isinstance(v, bool)),
    "favourite_genres": st.just(["western"]) | st.just("drama") | st.just(["drama", "drama"]),
    "autoplay": json_values.filter(lambda v: not isinstance(v, bool)),
}


def test_every_preference_field_has_a_validator_that_accepts_its_default() -> None:
    for name in FIELD_NAMES:
        default = getattr(NEW_MEMBER_PREFERENCES, name)
        value = list(default) if isinstance(default, tuple) else default
        assert parse_patch({name: value}).changes() == {name: default}


@given(valid_bodies)
def test_a_valid_body_becomes_exactly_the_changes_it_asks_for(body: dict[str, Any]) -> None:
    changes = parse_patch(body).changes()
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()} == body


@given(valid_bodies, st.text(min_size=1).filter(lambda name: name not in FIELD_NAMES))
def test_an_unknown_field_is_refused_by_name(body: dict[str, Any], unknown: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_patch({**body, unknown: True})
    assert caught.value.field == unknown


@given(valid_bodies, st.data())
def test_one_bad_field_refuses_the_whole_body_naming_it(
    body: dict[str, Any], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(valid_values)))
    bad = {**body, name: data.draw(wrong_values[name])}
    with pytest.raises(InvalidField) as caught:
        parse_patch(bad)
    assert caught.value.field == name


@given(json_values)
def test_any_json_is_either_a_patch_or_an_error_naming_a_field(body: Any) -> None:
    try:
        patch = parse_patch(body)
    except InvalidField as exc:
        assert exc.field == "body" or (isinstance(body, dict) and exc.field in body)
    else:
        assert isinstance(patch, PreferencesPatch) and patch.changes()


@pytest.mark.parametrize("body", [{}, [], "x", 3, None])
def test_an_empty_or_non_object_body_is_refused_as_body(body: Any) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_patch(body)
    assert caught.value.field == "body"


def test_booleans_are_not_numbers() -> None:
    with pytest.raises(InvalidField, match="^subtitles: must be true or false, got 1"):
        parse_patch({"subtitles": 1})


def test_error_message_lists_the_allowed_values() -> None:
    with pytest.raises(InvalidField, match="must be one of all, 7\\+, 13\\+, 16\\+, 18\\+"):
        parse_patch({"maturity_level": "R"})
