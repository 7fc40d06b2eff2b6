"""Unique write values: every field of a write's preferences identifies the write.

Write number n (0 <= n < VALUE_SPACE) becomes a whole set of preferences:
``languages`` is one code such as ``"bcd-042"`` that encodes n exactly, and
the other four fields are derived from n. A stored profile whose fields are
not exactly those of the write its language code names holds fields from
more than one write: a partial update.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from services.vocabulary import GENRES, MATURITY_RATINGS, Preferences

__all__ = ["VALUE_SPACE", "expected_preferences", "value_preferences", "write_of"]

VALUE_SPACE = 26**3 * 1000
_CODE = re.compile(r"([a-z]{3})-([0-9]{3})")


def _code(n: int) -> str:
    letters, digits = divmod(n, 1000)
    chars = []
    for _ in range(3):
        letters, rest = divmod(letters, 26)
        chars.append(chr(ord("a") + rest))
    return f"{''.join(reversed(chars))}-{digits:03d}"


def expected_preferences(n: int) -> Preferences:
    if not 0 <= n < VALUE_SPACE:
        raise ValueError(f"write number must be in [0, {VALUE_SPACE}), got {n}")
    bits = int.from_bytes(hashlib.sha256(str(n).encode()).digest()[:4], "big")
    genres = tuple(genre for i, genre in enumerate(GENRES) if bits >> i & 1)
    return Preferences(
        maturity_level=MATURITY_RATINGS[bits >> 12 & 3],
        languages=(_code(n),),
        subtitles=bool(bits >> 14 & 1),
        favourite_genres=genres,
        autoplay=bool(bits >> 15 & 1),
    )


def value_preferences(n: int) -> dict[str, Any]:
    """The PATCH body (or sync changes) of write n: every field."""
    return expected_preferences(n).to_json()


def write_of(preferences: dict[str, Any]) -> int | None:
    """The write number whose language code `preferences` holds; None for none (defaults)."""
    languages = preferences.get("languages")
    if not isinstance(languages, list) or len(languages) != 1:
        return None
    match = _CODE.fullmatch(str(languages[0]))
    if match is None:
        return None
    letters = 0
    for char in match.group(1):
        letters = letters * 26 + ord(char) - ord("a")
    return letters * 1000 + int(match.group(2))


def is_whole(preferences: dict[str, Any]) -> bool:
    """True when every field comes from one write (or these are untouched defaults)."""
    n = write_of(preferences)
    if n is None:
        return preferences == Preferences().to_json()
    return preferences == expected_preferences(n).to_json()
