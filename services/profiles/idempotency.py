"""Idempotency keys: how a retried write is recognised.

A write is recorded under its key together with a fingerprint of what it
asked for (the member and the normalised changes). A later request with the
same key and the same fingerprint gets the original answer and changes
nothing; the same key with another fingerprint is refused.
"""

from __future__ import annotations

import hashlib
import json

from services.common import InvalidField
from services.profiles.model import PreferencesPatch

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def parse_key(raw: str | None) -> str:
    """The key from the header: 1 to 255 visible ASCII characters."""
    if raw is None or raw == "":
        raise InvalidField(HEADER, "header is required on every write (a unique value per write)")
    if len(raw) > MAX_KEY_LENGTH or not all("!" <= char <= "~" for char in raw):
        raise InvalidField(
            HEADER, f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters without spaces"
        )
    return raw


def fingerprint(member: str, patch: PreferencesPatch, base_version: int | None = None) -> str:
    """A stable digest of what a write asks for, independent of JSON formatting.

    A device sync's base version is part of what it asks for.
    """
    changes = {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in patch.changes().items()
    }
    asked: dict[str, object] = {"member": member, "changes": changes}
    if base_version is not None:
        asked["base_version"] = base_version
    canonical = json.dumps(asked, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
