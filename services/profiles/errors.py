"""Errors of the profiles service.

The tree::

    ProfilesError
    ├── IdempotencyConflict     a key was reused for a different write
    └── StoreError              the profile store failed or is not open

A request that is unusable raises the kit's `InvalidField`; its `field` is a
preference name, "member", "Idempotency-Key" or "body".
"""

from __future__ import annotations


class ProfilesError(Exception):
    """Base of every error raised by services.profiles."""


class IdempotencyConflict(ProfilesError):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was already used for a different request; "
            "use a new key for a new write"
        )
        self.key = key


class StoreError(ProfilesError):
    """The SQLite store failed (or is closed); nothing was acknowledged."""
