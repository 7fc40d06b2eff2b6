"""The per-member versioned log and the per-peer outbox, as SQL on an open transaction.

Every committed version of a member is a whole record (all preferences, the
version number, the time the home replica committed it). The `log` keeps the
last `LOG_KEEP` versions of each member; the `outbox` holds, per peer and
member, the newest version that peer has not yet acknowledged and the commit
time of the oldest version it is missing (the peer's replication lag).
Because each version is whole, pushing the newest version supersedes every
older one, so the outbox needs one row per (peer, member).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.profiles.model import Profile, preferences_from_stored
from services.vocabulary import Preferences

__all__ = ["LOG_KEEP", "SCHEMA", "LogEntry"]

LOG_KEEP = 32

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    member       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    preferences  TEXT NOT NULL,
    committed_at REAL NOT NULL,
    PRIMARY KEY (member, version)
);
CREATE TABLE IF NOT EXISTS outbox (
    peer         TEXT NOT NULL,
    member       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    oldest_at    REAL NOT NULL,
    PRIMARY KEY (peer, member)
);
"""


@dataclass(frozen=True)
class LogEntry:
    """One whole version of a member's profile, as its home replica committed it."""

    member: str
    version: int
    preferences: Preferences
    committed_at: float

    @property
    def profile(self) -> Profile:
        return Profile(self.member, self.preferences, self.version)

    def to_json(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "version": self.version,
            "preferences": self.preferences.to_json(),
            "committed_at": self.committed_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogEntry:
        """An entry sent by a peer; ValueError (naming the field) if it is not one."""
        try:
            member, version, committed_at = data["member"], data["version"], data["committed_at"]
            raw = data["preferences"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"log entry: missing field {exc}") from None
        if not isinstance(member, str) or not isinstance(version, int) or version < 1:
            raise ValueError("log entry: member must be a string and version an integer >= 1")
        if not isinstance(committed_at, int | float) or not isinstance(raw, Mapping):
            raise ValueError("log entry: committed_at must be a number, preferences an object")
        return cls(member, version, preferences_from_stored(raw), float(committed_at))


def stored(preferences: Preferences) -> str:
    return json.dumps(preferences.to_json(), sort_keys=True)


def append(db: sqlite3.Connection, entry: LogEntry) -> None:
    """Make `entry` the member's current version and append it to the log (in a transaction)."""
    text = stored(entry.preferences)
    db.execute(
        "INSERT INTO profiles (member, preferences, version, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (member) DO UPDATE SET preferences = excluded.preferences,"
        " version = excluded.version, updated_at = excluded.updated_at",
        (entry.member, text, entry.version, entry.committed_at),
    )
    db.execute(
        "INSERT OR IGNORE INTO log (member, version, preferences, committed_at)"
        " VALUES (?, ?, ?, ?)",
        (entry.member, entry.version, text, entry.committed_at),
    )
    db.execute(
        "DELETE FROM log WHERE member = ? AND version <= ?",
        (entry.member, entry.version - LOG_KEEP),
    )


def enqueue(db: sqlite3.Connection, entry: LogEntry, peers: Iterable[str]) -> None:
    """Record that each peer still needs `entry` (keeping the oldest missing commit time)."""
    for peer in peers:
        db.execute(
            "INSERT INTO outbox (peer, member, version, oldest_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (peer, member) DO UPDATE SET version = excluded.version",
            (peer, entry.member, entry.version, entry.committed_at),
        )


def current_version(db: sqlite3.Connection, member: str) -> int:
    row = db.execute("SELECT version FROM profiles WHERE member = ?", (member,)).fetchone()
    return 0 if row is None else int(row[0])


def entry_rows(db: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[LogEntry]:
    rows = db.execute(
        f"SELECT member, version, preferences, updated_at FROM profiles {where}", args
    ).fetchall()
    return [LogEntry(m, v, preferences_from_stored(json.loads(p)), t) for m, v, p, t in rows]
