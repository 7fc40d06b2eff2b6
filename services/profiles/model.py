"""The profile record, and the patch a write applies to its preferences.

A member who never wrote anything has `NEW_MEMBER_PREFERENCES` at version 0:
every maturity rating allowed, so that a new member can play any title. A
service that cannot read a member's real profile must not assume these
defaults are safe for a child's profile; `services.vocabulary.preferences`
names the defaults and says who uses which.

Each applied write makes a new version (previous + 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from services.vocabulary import NEW_MEMBER_PREFERENCES, Preferences

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Preferences))


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
    return Profile(member=member, preferences=NEW_MEMBER_PREFERENCES, version=0)


def preferences_from_stored(data: Mapping[str, Any]) -> Preferences:
    """Preferences as stored by this service; fields absent from old rows keep defaults."""
    known = {name: data[name] for name in FIELD_NAMES if name in data}
    for name in ("languages", "favourite_genres"):
        if name in known:
            known[name] = tuple(known[name])
    return replace(NEW_MEMBER_PREFERENCES, **known)
