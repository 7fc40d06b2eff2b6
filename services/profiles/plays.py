"""A member's play log: one entry appended per playback start that playback records.

``POST /profiles/{member}/plays`` with ``{"title": <id>}`` appends an entry
and answers 201 ``{"member", "title", "plays", "repeated"}`` (``plays``: the
member's entries now). The append is **not idempotent**: it carries no
Idempotency-Key, and sending it twice appends twice, so callers must never
retry it (playback marks the call non-idempotent).

Each entry keeps the ``X-Request-Id`` it came with. A caller's tries of one
request share that id, so an entry whose request id the log already holds is
a play sent twice: it is appended all the same (the log does not second-guess
its callers), answered with ``"repeated": true`` and counted as ``repeated``
in ``chaosbed_profile_plays_total{result}`` (else ``recorded``).

The log lives on the member's home replica: a non-home replica forwards the
append there, like a preference write, and it is not replicated.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

from services.common import InvalidField
from services.topology import Metric

__all__ = ["PLAY_RESULTS", "SCHEMA", "PlayMetrics", "PlayRecorded", "append", "parse_play"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS plays (
    member TEXT NOT NULL,
    title INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS plays_member_request ON plays (member, request_id);
"""

PLAY_RESULTS = ("recorded", "repeated")


@dataclass(frozen=True)
class PlayRecorded:
    member: str
    title: int
    plays: int
    """The member's entries, this one included."""
    repeated: bool
    """The log already held an entry with this request id: the play was sent twice."""

    def to_json(self) -> dict[str, object]:
        return {
            "member": self.member,
            "title": self.title,
            "plays": self.plays,
            "repeated": self.repeated,
        }


def parse_play(body: object) -> int:
    """The title of a play body ``{"title": <id>}``; InvalidField names the bad field."""
    if not isinstance(body, Mapping):
        raise InvalidField("body", 'must be {"title": <title id>}')
    unknown = set(body) - {"title"}
    if unknown:
        raise InvalidField(str(sorted(unknown)[0]), "unknown field (allowed: title)")
    title = body.get("title")
    if isinstance(title, bool) or not isinstance(title, int) or title < 1:
        raise InvalidField("title", "must be a title id (a whole number >= 1)")
    return title


def append(
    db: sqlite3.Connection, member: str, title: int, request_id: str, at: float
) -> PlayRecorded:
    """Append one entry inside the caller's transaction."""
    (seen,) = db.execute(
        "SELECT count(*) FROM plays WHERE member = ? AND request_id = ?", (member, request_id)
    ).fetchone()
    db.execute(
        "INSERT INTO plays (member, title, request_id, at) VALUES (?, ?, ?, ?)",
        (member, title, request_id, at),
    )
    (plays,) = db.execute("SELECT count(*) FROM plays WHERE member = ?", (member,)).fetchone()
    return PlayRecorded(member, title, int(plays), repeated=int(seen) > 0)


class PlayMetrics:
    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self.plays = Counter(
            Metric.PROFILE_PLAYS,
            "Plays appended to members' play logs: recorded, or repeated (the log already"
            " held an entry with the same request id: a caller sent the play twice).",
            ["service", "result"],
            registry=registry,
        )
        for result in PLAY_RESULTS:
            self.plays.labels(service, result)

    def appended(self, play: PlayRecorded) -> None:
        self.plays.labels(self.service, "repeated" if play.repeated else "recorded").inc()
