"""A member's preferences, the two defaults, and reading them from a profiles answer.

Profiles stores and serves the preferences; recommendations and playback
read them from its answer (``{"member", "preferences": {...}, "version"}``)
with `preferences_from_profile`.

The two defaults differ on purpose, in the maturity level above all:

- `NEW_MEMBER_PREFERENCES` (maturity "18+", the most permissive level) is
  what profiles holds for a member who never wrote anything: a new member can
  play any title until they restrict their profile.
- `PROFILE_UNAVAILABLE_PREFERENCES` (maturity "13+", a general-audience
  level, no favourite genres) is what a client assumes while it cannot read a
  member's profile at all (recommendations' fallback ``default_preferences``).
  It is deliberately not the permissive default: the profile we cannot see
  might be a child's. Playback goes further and does not use it: without a
  profile it starts all-ages titles only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from services.common.errors import InvalidField

from . import json_fields as f
from .closed_sets import GENRES, MATURITY_RATINGS

T = TypeVar("T")


@dataclass(frozen=True)
class Preferences:
    maturity_level: str = MATURITY_RATINGS[-1]
    """One of MATURITY_RATINGS: the most restricted rating this member may watch."""
    languages: tuple[str, ...] = ("en",)
    """Audio languages, most preferred first (BCP 47 style codes such as "en", "pt-BR")."""
    subtitles: bool = False
    favourite_genres: tuple[str, ...] = ()
    """Values of GENRES, most favourite first."""
    autoplay: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "maturity_level": self.maturity_level,
            "languages": list(self.languages),
            "subtitles": self.subtitles,
            "favourite_genres": list(self.favourite_genres),
            "autoplay": self.autoplay,
        }


NEW_MEMBER_PREFERENCES = Preferences()
PROFILE_UNAVAILABLE_PREFERENCES = Preferences(maturity_level="13+", favourite_genres=())


def preferences_from_profile(data: object) -> Preferences:
    """The preferences in a profiles answer; `InvalidField` (a ValueError) names the bad field.

    The maturity level must be one of MATURITY_RATINGS: a client cannot
    filter safely on anything else. Favourite genres that are not in GENRES
    (a genre retired from the catalog) are dropped, as are repeats: they
    should not make a profile unusable. Any other field may be absent (it
    then reads as the new member's default) but must have its type.
    """
    profile = f.require_object(data, "profile")
    prefs = f.require_object(profile.get("preferences"), "preferences")
    new = NEW_MEMBER_PREFERENCES
    return Preferences(
        maturity_level=f.choice_field(prefs, "maturity_level", MATURITY_RATINGS),
        languages=_optional(prefs, "languages", f.str_list_field, new.languages),
        subtitles=_optional(prefs, "subtitles", f.bool_field, new.subtitles),
        favourite_genres=_known_genres(prefs),
        autoplay=_optional(prefs, "autoplay", f.bool_field, new.autoplay),
    )


def _optional(
    prefs: Mapping[str, Any],
    field: str,
    read: Callable[[Mapping[str, Any], str], T],
    default: T,
) -> T:
    return read(prefs, field) if field in prefs else default


def _known_genres(prefs: Mapping[str, Any]) -> tuple[str, ...]:
    genres = prefs.get("favourite_genres", [])
    if not isinstance(genres, list):
        raise InvalidField("favourite_genres", "expected a list")
    return tuple(dict.fromkeys(g for g in genres if isinstance(g, str) and g in GENRES))
