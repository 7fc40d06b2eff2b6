"""profiles: member preferences, durable in SQLite, written once per idempotency key."""

from services.profiles.model import DEFAULT_PREFERENCES, Preferences, PreferencesPatch, Profile

__all__ = ["DEFAULT_PREFERENCES", "Preferences", "PreferencesPatch", "Profile"]
