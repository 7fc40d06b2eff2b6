"""Errors of the profiles service.

The tree::

    ProfilesError
    ├── IdempotencyConflict     a key was reused for a different write
    ├── SyncConflict            a device synced from a base version that is not current
    └── StoreError              the profile store failed or is not open

A request that is unusable raises the kit's `InvalidField`; its `field` is a
preference name, "member", "Idempotency-Key" or "body".
"""

from __future__ import annotations

from services.profiles.model import Profile


class ProfilesError(Exception):
    """Base of every error raised by services.profiles."""


class IdempotencyConflict(ProfilesError):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was already used for a different request; "
            "use a new key for a new write"
        )
        self.key = key


class SyncConflict(ProfilesError):
    def __init__(self, current: Profile) -> None:
        super().__init__(
            f"member {current.member!r} is at version {current.version}, not at the base"
            " version this sync was made from; merge with the current version and sync again"
        )
        self.current = current


class StoreError(ProfilesError):
    """The SQLite store failed (or is closed); nothing was acknowledged."""
