"""profiles: member preferences, durable in SQLite, written once per idempotency key.

The `Preferences` record and its defaults are in `services.vocabulary`.
"""

from services.profiles.model import PreferencesPatch, Profile

__all__ = ["PreferencesPatch", "Profile"]
