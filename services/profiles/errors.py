"""Errors of the profiles service.

The tree::

    ProfilesError
    ├── InvalidRequest          a request is unusable; `field` names what is wrong
    ├── IdempotencyConflict     a key was reused for a different write
    └── StoreError              the profile store failed or is not open
"""

from __future__ import annotations


class ProfilesError(Exception):
    """Base of every error raised by services.profiles."""


class InvalidRequest(ProfilesError):
    """`field` is a preference name, "member", "Idempotency-Key" or "body"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class IdempotencyConflict(ProfilesError):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was already used for a different request; "
            "use a new key for a new write"
        )
        self.key = key


class StoreError(ProfilesError):
    """The SQLite store failed (or is closed); nothing was acknowledged."""
