"""Reading a profiles answer into the preferences ranking uses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.recommendations.preferences import DEFAULT_PREFERENCES, preferences_from_profile


def profile(**prefs):
    return {"member": "m-1", "preferences": prefs, "version": 3}


def test_reads_maturity_level_and_favourite_genres():
    prefs = preferences_from_profile(
        profile(maturity_level="7+", favourite_genres=["family", "comedy"])
    )
    assert (prefs.maturity_level, prefs.favourite_genres) == ("7+", ("family", "comedy"))


def test_unknown_and_repeated_genres_are_dropped():
    prefs = preferences_from_profile(
        profile(maturity_level="18+", favourite_genres=["jazz", "drama", "drama"])
    )
    assert prefs.favourite_genres == ("drama",)


@pytest.mark.parametrize(
    "data",
    [None, [], {"preferences": None}, profile(), profile(maturity_level="PG-13")],
)
def test_an_unusable_profile_is_a_value_error(data):
    with pytest.raises(ValueError):
        preferences_from_profile(data)


def test_default_preferences_are_not_the_most_permissive_level():
    assert DEFAULT_PREFERENCES.maturity_level != "18+"
    assert DEFAULT_PREFERENCES.favourite_genres == ()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(["maturity_level", "favourite_genres", "x"]), JSON))
def test_any_json_parses_or_raises_value_error(prefs):
    try:
        preferences_from_profile({"preferences": prefs})
    except ValueError:
        pass
