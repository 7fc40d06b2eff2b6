"""The closed sets, and the order of maturity ratings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.vocabulary import MATURITY_RATINGS, maturity_allows, maturity_rank


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


@given(st.sampled_from(MATURITY_RATINGS), st.sampled_from(MATURITY_RATINGS))
def test_a_higher_level_allows_everything_a_lower_one_does(low: str, high: str) -> None:
    if maturity_rank(low) <= maturity_rank(high):
        for rating in MATURITY_RATINGS:
            assert not maturity_allows(low, rating) or maturity_allows(high, rating)
