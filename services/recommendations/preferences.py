"""A member's preferences as recommendations uses them, and the defaults.

Only the fields that shape the homepage are read: the maturity level (a
filter) and the favourite genres (row order). Languages, subtitles and
autoplay are the player's business, not the ranking's.

`DEFAULT_PREFERENCES` is what a member is ranked with when profiles cannot
be read (fallback ``default_preferences``): no favourite genres, so the
homepage is the regional popular row, and maturity "13+", a general-audience
level. It is deliberately not the most permissive level: while we cannot see
a member's settings we might be serving a child's profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.catalog.model import GENRES, MATURITY_RATINGS


@dataclass(frozen=True)
class Preferences:
    maturity_level: str
    favourite_genres: tuple[str, ...] = ()


DEFAULT_PREFERENCES = Preferences(maturity_level="13+", favourite_genres=())


def preferences_from_profile(data: object) -> Preferences:
    """Read a profiles answer (``{"member", "preferences": {...}, "version"}``).

    ValueError names the bad field. Unknown favourite genres are dropped (a
    genre retired from the catalog should not break a homepage); an unknown
    maturity level is an error, since it cannot be filtered on safely.
    """
    if not isinstance(data, Mapping):
        raise ValueError("profile: expected a JSON object")
    prefs = data.get("preferences")
    if not isinstance(prefs, Mapping):
        raise ValueError("preferences: expected a JSON object")
    level = prefs.get("maturity_level")
    if level not in MATURITY_RATINGS:
        raise ValueError(f"maturity_level: {level!r} is not one of {', '.join(MATURITY_RATINGS)}")
    genres = prefs.get("favourite_genres", [])
    if not isinstance(genres, list):
        raise ValueError("favourite_genres: expected a list")
    known = tuple(dict.fromkeys(g for g in genres if isinstance(g, str) and g in GENRES))
    return Preferences(maturity_level=str(level), favourite_genres=known)
