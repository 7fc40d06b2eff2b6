"""Member preferences and the profile record that carries them.

A member who never wrote anything has DEFAULT_PREFERENCES at version 0.
Each applied write makes a new version (previous + 1).

The defaults allow every maturity rating, so that a new member can play any
title; a service that cannot read a member's real profile must not assume
these defaults are safe for a child's profile (playback's degraded mode
decides that for itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from services.catalog.model import MATURITY_RATINGS


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


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Preferences))
DEFAULT_PREFERENCES = Preferences()


@dataclass(frozen=True)
class PreferencesPatch:
    """The fields a write changes; None means "leave as it is"."""

    maturity_level: str | None = None
    languages: tuple[str, ...] | None = None
    subtitles: bool | None = None
    favourite_genres: tuple[str, ...] | None = None
    autoplay: bool | None = None

    def changes(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }

    def apply_to(self, preferences: Preferences) -> Preferences:
        return replace(preferences, **self.changes())


@dataclass(frozen=True)
class Profile:
    member: str
    preferences: Preferences
    version: int

    def to_json(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "preferences": self.preferences.to_json(),
            "version": self.version,
        }


def default_profile(member: str) -> Profile:
    return Profile(member=member, preferences=DEFAULT_PREFERENCES, version=0)


def preferences_from_stored(data: Mapping[str, Any]) -> Preferences:
    """Preferences as stored by this service; fields absent from old rows keep defaults."""
    known = {name: data[name] for name in FIELD_NAMES if name in data}
    for name in ("languages", "favourite_genres"):
        if name in known:
            known[name] = tuple(known[name])
    return replace(DEFAULT_PREFERENCES, **known)
