"""The profile store: SQLite, one connection, synchronous.

Durability: the database runs in WAL mode with ``synchronous=FULL``, so a
transaction is on disk (the WAL fsynced) when COMMIT returns; the service
acknowledges a write only after that.

Atomicity: a write is one ``BEGIN IMMEDIATE`` transaction that looks up the
idempotency key, reads the profile (and, for a device sync, checks the base
version), stores the whole new version (version + 1), appends it to the
member's log, queues it for every peer replica and records the key with the
answer given. Either all of it happens or none of it does. A version pushed
by a peer is applied the same way, only if it is newer than the one held.

This class blocks; the service calls it through `AsyncProfileStore`, which
runs every call on one dedicated thread.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from services.profiles import plays, replica_log
from services.profiles.errors import IdempotencyConflict, StoreError, SyncConflict
from services.profiles.model import (
    PreferencesPatch,
    Profile,
    default_profile,
    preferences_from_stored,
)
from services.profiles.plays import PlayRecorded
from services.profiles.replica_log import LogEntry

SCHEMA_VERSION = 3
DEFAULT_IDEMPOTENCY_TTL_S = 24 * 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    member      TEXT PRIMARY KEY,
    preferences TEXT NOT NULL,
    version     INTEGER NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    member      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    preferences TEXT NOT NULL,
    created_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);
"""


@dataclass(frozen=True)
class WriteResult:
    profile: Profile
    """The profile as this write left it (for a replay: as the original write left it)."""
    replayed: bool
    """True when the key had been seen: nothing was applied this time."""


class ProfileStore:
    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        clock: Callable[[], float] = time.time,
        idempotency_ttl_s: float = DEFAULT_IDEMPOTENCY_TTL_S,
    ) -> None:
        self._db: sqlite3.Connection | None = connection
        self._clock = clock
        self._ttl_s = idempotency_ttl_s

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        idempotency_ttl_s: float = DEFAULT_IDEMPOTENCY_TTL_S,
    ) -> ProfileStore:
        """Open (creating it and its parent directories if needed) the database at `path`."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None, timeout=5.0)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open profile database {path}: {exc}") from exc
        try:
            _prepare(db, path)
        except BaseException:
            db.close()
            raise
        return cls(db, clock=clock, idempotency_ttl_s=idempotency_ttl_s)

    @property
    def is_open(self) -> bool:
        return self._db is not None

    def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            db.close()

    def get(self, member: str) -> Profile:
        with self._errors():
            row = self._conn.execute(
                "SELECT preferences, version FROM profiles WHERE member = ?", (member,)
            ).fetchone()
        if row is None:
            return default_profile(member)
        return _profile(member, row[0], row[1])

    def write(
        self,
        member: str,
        patch: PreferencesPatch,
        key: str,
        fingerprint: str,
        *,
        base_version: int | None = None,
        peers: tuple[str, ...] = (),
    ) -> WriteResult:
        """Apply `patch` once per `key`; IdempotencyConflict if `key` meant another write.

        With `base_version`, SyncConflict (holding the current profile) unless
        the member is at exactly that version. The new version is queued for
        each of `peers`.
        """
        with self._transaction() as db:
            now = self._clock()
            db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (now - self._ttl_s,))
            seen = db.execute(
                "SELECT fingerprint, member, version, preferences FROM idempotency_keys"
                " WHERE key = ?",
                (key,),
            ).fetchone()
            if seen is not None:
                if seen[0] != fingerprint:
                    raise IdempotencyConflict(key)
                return WriteResult(_profile(seen[1], seen[3], seen[2]), replayed=True)
            row = db.execute(
                "SELECT preferences, version FROM profiles WHERE member = ?", (member,)
            ).fetchone()
            current = default_profile(member) if row is None else _profile(member, *row)
            if base_version is not None and base_version != current.version:
                raise SyncConflict(current)
            entry = LogEntry(member, current.version + 1, patch.apply_to(current.preferences), now)
            replica_log.append(db, entry)
            replica_log.enqueue(db, entry, peers)
            updated = entry.preferences
            db.execute(
                "INSERT INTO idempotency_keys"
                " (key, fingerprint, member, version, preferences, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (key, fingerprint, member, entry.version, replica_log.stored(updated), now),
            )
        return WriteResult(entry.profile, replayed=False)

    def apply(self, entries: list[LogEntry]) -> list[LogEntry]:
        """Apply versions pushed or pulled from a peer, each only if newer; those applied."""
        applied = []
        with self._transaction() as db:
            for entry in entries:
                if entry.version > replica_log.current_version(db, entry.member):
                    replica_log.append(db, entry)
                    applied.append(entry)
        return applied

    def record_play(self, member: str, title: int, request_id: str) -> PlayRecorded:
        """Append a play to `member`'s log (not idempotent: twice appends twice)."""
        with self._transaction() as db:
            return plays.append(db, member, title, request_id, self._clock())

    def versions(self) -> dict[str, int]:
        """Every member held here and its current version."""
        with self._errors():
            return dict(self._conn.execute("SELECT member, version FROM profiles").fetchall())

    def entries(self, members: list[str] | None = None) -> list[LogEntry]:
        """The current version of each of `members` held here (of every member for None)."""
        with self._errors():
            if members is None:
                return replica_log.entry_rows(self._conn, "ORDER BY member", ())
            marks = ",".join("?" * len(members))
            return replica_log.entry_rows(self._conn, f"WHERE member IN ({marks})", tuple(members))

    def pending(self, peer: str, limit: int) -> list[LogEntry]:
        """Up to `limit` current versions `peer` has not acknowledged, longest waiting first."""
        with self._errors():
            return replica_log.entry_rows(
                self._conn,
                "WHERE member IN (SELECT member FROM outbox WHERE peer = ?"
                " ORDER BY oldest_at LIMIT ?)",
                (peer, limit),
            )

    def pending_stats(self, peer: str) -> tuple[int, float | None]:
        """How many members `peer` is missing a version of, and the oldest such commit time."""
        with self._errors():
            count, oldest = self._conn.execute(
                "SELECT count(*), min(oldest_at) FROM outbox WHERE peer = ?", (peer,)
            ).fetchone()
        return int(count), oldest

    def acknowledge(self, peer: str, entries: list[LogEntry]) -> None:
        """`peer` durably holds `entries`: forget them (not newer versions queued since)."""
        with self._transaction() as db:
            db.executemany(
                "DELETE FROM outbox WHERE peer = ? AND member = ? AND version <= ?",
                [(peer, entry.member, entry.version) for entry in entries],
            )

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError("the profile store is closed")
        return self._db

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"profile store failed: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._conn
        with self._errors():
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    try:
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        db.executescript(replica_log.SCHEMA)
        db.executescript(plays.SCHEMA)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot prepare profile database {path}: {exc}") from exc
    if str(mode).lower() != "wal":
        raise StoreError(f"{path}: SQLite refused WAL mode (journal_mode={mode})")


def _profile(member: str, preferences: str, version: int) -> Profile:
    return Profile(member, preferences_from_stored(json.loads(preferences)), version)
