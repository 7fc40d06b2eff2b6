"""A member's preferences: reading a profiles answer, and the two defaults."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import InvalidField
from services.vocabulary import (
    GENRES,
    MATURITY_RATINGS,
    NEW_MEMBER_PREFERENCES,
    PROFILE_UNAVAILABLE_PREFERENCES,
    Preferences,
    maturity_rank,
    preferences_from_profile,
)

PREFERENCE_FIELDS = ("maturity_level", "languages", "subtitles", "favourite_genres", "autoplay")
preferences = st.builds(
    Preferences,
    maturity_level=st.sampled_from(MATURITY_RATINGS),
    languages=st.lists(
        st.sampled_from(["en", "fr", "pt-BR", "es-419"]), min_size=1, unique=True
    ).map(tuple),
    subtitles=st.booleans(),
    favourite_genres=st.lists(st.sampled_from(GENRES), unique=True).map(tuple),
    autoplay=st.booleans(),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=10,
)


def profile(**prefs: Any) -> dict[str, Any]:
    return {"member": "m-1", "preferences": prefs, "version": 3}


@given(preferences)
def test_preferences_round_trip_through_a_profiles_answer(prefs: Preferences) -> None:
    answer = {"member": "m-1", "preferences": prefs.to_json(), "version": 1}
    assert preferences_from_profile(answer) == prefs


def test_reads_maturity_level_and_favourite_genres() -> None:
    prefs = preferences_from_profile(
        profile(maturity_level="7+", favourite_genres=["family", "comedy"])
    )
    assert (prefs.maturity_level, prefs.favourite_genres) == ("7+", ("family", "comedy"))


def test_fields_absent_from_the_answer_read_as_the_new_member_defaults() -> None:
    prefs = preferences_from_profile(profile(maturity_level="7+"))
    assert prefs == Preferences(maturity_level="7+", favourite_genres=())
    assert (prefs.languages, prefs.subtitles, prefs.autoplay) == (
        NEW_MEMBER_PREFERENCES.languages,
        NEW_MEMBER_PREFERENCES.subtitles,
        NEW_MEMBER_PREFERENCES.autoplay,
    )


def test_unknown_and_repeated_genres_are_dropped() -> None:
    prefs = preferences_from_profile(
        profile(maturity_level="18+", favourite_genres=["jazz", "drama", 3, "drama"])
    )
    assert prefs.favourite_genres == ("drama",)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (None, "profile"),
        ([], "profile"),
        ({"preferences": None}, "preferences"),
        (profile(), "maturity_level"),
        (profile(maturity_level="PG-13"), "maturity_level"),
        (profile(maturity_level="13+", favourite_genres="drama"), "favourite_genres"),
        (profile(maturity_level="13+", languages="en"), "languages"),
        (profile(maturity_level="13+", subtitles="yes"), "subtitles"),
        (profile(maturity_level="13+", autoplay=1), "autoplay"),
    ],
)
def test_an_unusable_profile_is_an_error_naming_the_field(data: Any, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        preferences_from_profile(data)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


@given(st.dictionaries(st.sampled_from([*PREFERENCE_FIELDS, "x"]), JSON) | JSON)
def test_any_json_is_preferences_or_an_error_naming_a_field(prefs: Any) -> None:
    try:
        read = preferences_from_profile({"preferences": prefs})
    except InvalidField as exc:
        assert exc.field in {"preferences", *PREFERENCE_FIELDS}
    else:
        assert read.maturity_level in MATURITY_RATINGS
        assert set(read.favourite_genres) <= set(GENRES)


def test_a_new_member_may_watch_every_rating() -> None:
    assert NEW_MEMBER_PREFERENCES.maturity_level == MATURITY_RATINGS[-1]


def test_an_unreadable_profile_is_assumed_general_audience_not_permissive() -> None:
    assert PROFILE_UNAVAILABLE_PREFERENCES.maturity_level == "13+"
    assert maturity_rank(PROFILE_UNAVAILABLE_PREFERENCES.maturity_level) < maturity_rank(
        NEW_MEMBER_PREFERENCES.maturity_level
    )
    assert PROFILE_UNAVAILABLE_PREFERENCES.favourite_genres == ()
