"""Validate a PATCH body: the preferences a write changes.

A PATCH body is a JSON object holding only the preferences to change. It is
validated in full before anything is applied, so a write is all or nothing;
the first problem found is reported with the field it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from services.common import InvalidField
from services.profiles.model import FIELD_NAMES, PreferencesPatch
from services.vocabulary import GENRES, MATURITY_RATINGS

LANGUAGE_PATTERN = re.compile(r"[a-z]{2,3}(-[A-Z]{2}|-[0-9]{3})?")
MAX_LANGUAGES = 10


def parse_patch(body: object) -> PreferencesPatch:
    """The patch a body asks for; InvalidField names the first bad field."""
    if not isinstance(body, Mapping):
        raise InvalidField("body", "must be a JSON object of the preferences to change")
    if not body:
        raise InvalidField("body", f"changes nothing: give one or more of {', '.join(FIELD_NAMES)}")
    values: dict[str, Any] = {}
    for name, value in body.items():
        parser = _PARSERS.get(name) if isinstance(name, str) else None
        if parser is None:
            raise InvalidField(str(name), f"unknown field (allowed: {', '.join(FIELD_NAMES)})")
        values[name] = parser(name, value)
    return PreferencesPatch(**values)


def _boolean(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidField(name, f"must be true or false, got {_show(value)}")
    return value


def _maturity(name: str, value: object) -> str:
    if not isinstance(value, str) or value not in MATURITY_RATINGS:
        raise InvalidField(
            name, f"must be one of {', '.join(MATURITY_RATINGS)}, got {_show(value)}"
        )
    return value


def _string_list(name: str, value: object, *, minimum: int, maximum: int) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidField(name, f"must be a list of strings, got {_show(value)}")
    if not minimum <= len(value) <= maximum:
        raise InvalidField(name, f"must hold {minimum} to {maximum} entries, got {len(value)}")
    if len(set(value)) != len(value):
        raise InvalidField(name, "must not repeat an entry")
    return tuple(value)


def _languages(name: str, value: object) -> tuple[str, ...]:
    languages = _string_list(name, value, minimum=1, maximum=MAX_LANGUAGES)
    for language in languages:
        if not LANGUAGE_PATTERN.fullmatch(language):
            raise InvalidField(
                name, f"{_show(language)} is not a language code such as 'en' or 'pt-BR'"
            )
    return languages


def _genres(name: str, value: object) -> tuple[str, ...]:
    genres = _string_list(name, value, minimum=0, maximum=len(GENRES))
    for genre in genres:
        if genre not in GENRES:
            raise InvalidField(name, f"{_show(genre)} is not one of {', '.join(GENRES)}")
    return genres


def _show(value: object) -> str:
    """A short rendering of a bad value for an error message."""
    if value is None:
        return "null"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_PARSERS: dict[str, Callable[[str, object], Any]] = {
    "maturity_level": _maturity,
    "languages": _languages,
    "subtitles": _boolean,
    "favourite_genres": _genres,
    "autoplay": _boolean,
}
