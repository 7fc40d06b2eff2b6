"""The start decision: region, then maturity, then the all-ages rule."""

from __future__ import annotations

from services.playback.policy import decide
from services.vocabulary import Title


def title(rating: str, regions: tuple[str, ...] = ("US",)) -> Title:
    return Title(1, "T", ("drama",), rating, regions, 1.0, 2020, 90)


def test_allowed_when_available_and_within_the_maturity_level() -> None:
    assert decide(title("13+"), "US", "16+").allowed


def test_the_maturity_level_itself_is_allowed() -> None:
    assert decide(title("16+"), "US", "16+").allowed


def test_a_rating_above_the_level_is_denied_for_maturity() -> None:
    d = decide(title("18+"), "US", "16+")
    assert (d.outcome, d.status, d.reason) == ("denied", 403, "maturity")


def test_region_is_checked_before_maturity() -> None:
    d = decide(title("18+", ("JP",)), "US", "7+")
    assert (d.status, d.reason) == (403, "region")


def test_without_a_profile_only_all_ages_titles_start() -> None:
    assert decide(title("all"), "US", None).allowed
    d = decide(title("7+"), "US", None)
    assert (d.outcome, d.status, d.reason) == ("failed", 503, "profile_unavailable")
