"""The member journeys `chaosbed explore` drives, one request each, and what the member got.

    homepage     GET   recommendations /recommendations/{member}
    title        GET   catalog         /titles/{id}
    play         POST  playback        /playback/start  {"member", "title"}
    preferences  PATCH profiles        /profiles/{member}  (Idempotency-Key)
    sync         POST  profiles        /profiles/{member}/sync  (a device's sync)

A write (preferences, sync) is made for a member of its own
(`x-<exploration>-<n>-<k>`) with a fresh Idempotency-Key, so no execution
sees another's write; the reads (homepage, title, play) are all made for
one member, so what the fault-free execution left in a cache (playback's
cached profile and title) is there when a fault asks for a fallback. Every
member is homed at `HOME` (profiles-eu): a write entering profiles (us) is
forwarded there, the same call site in every execution. The title played
is one every member may watch in the US (`pick_title`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.vocabulary.homes import home_replica

__all__ = [
    "EXPLORED",
    "HOME",
    "MemberOutcome",
    "Request",
    "outcome_of",
    "pick_title",
    "request_for",
]

EXPLORED: tuple[str, ...] = ("homepage", "title", "play", "preferences", "sync")
_SERVICE = {
    "homepage": "recommendations",
    "title": "catalog",
    "play": "playback",
    "preferences": "profiles",
    "sync": "profiles",
}


@dataclass(frozen=True)
class Request:
    journey: str
    service: str
    method: str
    path: str
    member: str
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()


HOME = "profiles-eu"


def _member(prefix: str, n: int) -> str:
    """Execution `n`'s member, homed at HOME."""
    k = 0
    while home_replica(f"x-{prefix}-{n}-{k}") != HOME:
        k += 1
    return f"x-{prefix}-{n}-{k}"


def pick_title(popular: Any) -> int:
    """A title from catalog's `GET /popular?region=US` any member may watch (rated `all`)."""
    titles = popular.get("titles") if isinstance(popular, dict) else None
    for title in titles if isinstance(titles, list) else ():
        if isinstance(title, dict) and title.get("maturity_rating") == "all":
            return int(title["id"])
    raise ValueError("catalog's /popular?region=US has no title rated `all` to play")


def request_for(journey: str, prefix: str, n: int, title: int = 1) -> Request:
    """Execution `n`'s request of `journey`; ValueError for a journey not explored."""
    if journey not in _SERVICE:
        raise ValueError(f"journey must be one of {', '.join(EXPLORED)}, got {journey!r}")
    member = _member(prefix, n if journey in ("preferences", "sync") else 0)
    service = _SERVICE[journey]
    key = (("Idempotency-Key", f"{prefix}-{n}"),)
    build: dict[str, Callable[[], Request]] = {
        "homepage": lambda: Request(journey, service, "GET", f"/recommendations/{member}", member),
        "title": lambda: Request(journey, service, "GET", f"/titles/{1 + n % 50}", member),
        "play": lambda: Request(
            journey, service, "POST", "/playback/start", member, {"member": member, "title": title}
        ),
        "preferences": lambda: Request(
            journey, service, "PATCH", f"/profiles/{member}", member, {"autoplay": True}, key
        ),
        "sync": lambda: Request(
            journey,
            service,
            "POST",
            f"/profiles/{member}/sync",
            member,
            {"base_version": 0, "changes": {"subtitles": True}},
            key,
        ),
    }
    return build[journey]()


@dataclass(frozen=True)
class MemberOutcome:
    """What the member got: `ok`, `degraded:<fallback>` or `failed:<status>` (a
    `+upstream` suffix when the answer named the upstream failure), `failed:none`
    when no answer came."""

    status: int | None
    degraded: bool = False
    fallback: str | None = None
    upstream: str | None = None

    @property
    def name(self) -> str:
        if self.status is None:
            return "failed:none"
        if 200 <= self.status < 300:
            return f"degraded:{self.fallback}" if self.degraded else "ok"
        return f"failed:{self.status}" + ("+upstream" if self.upstream else "")


def outcome_of(status: int | None, body: Any, upstream: str | None) -> MemberOutcome:
    if status is None:
        return MemberOutcome(None)
    degraded = isinstance(body, dict) and bool(body.get("degraded"))
    fallback = body.get("fallback") if isinstance(body, dict) and degraded else None
    named = fallback if isinstance(fallback, str) else None
    return MemberOutcome(status, degraded, named, upstream)
