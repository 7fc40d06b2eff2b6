"""The write path: forward to the home replica, or commit here (async or quorum).

A write (PATCH or device sync) for a member whose home is another replica is
forwarded to that replica with the same body, mode and Idempotency-Key, and
its answer is passed back (with ``X-Chaosbed-Forwarded-To``). When the home
cannot be reached the answer is 503 naming it (nothing is written here: a
member's versions are made by its home replica only).

Two of the named regressions (services/common/mutants.py, switched on with
CHAOSBED_MUTANT) live here too, so the history checker can be seen to catch them:

- ``ack-before-commit``: answers with the version it is about to write and
  commits it `BROKEN_COMMIT_DELAY_S` later; a kill in between loses an
  acknowledged write, and concurrent writes reuse a version number.
- ``field-per-txn``: commits a multi-field change one field per transaction,
  so a read (or a kill) between them sees a partial update.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from aiohttp import web

from services.common import (
    DependencyError,
    InvalidField,
    json_error,
    mark_upstream_failure,
    mutants,
)
from services.profiles.async_store import AsyncProfileStore
from services.profiles.idempotency import HEADER, fingerprint
from services.profiles.model import PreferencesPatch, Profile
from services.profiles.replication import Replicator
from services.profiles.settings import ProfilesSettings
from services.profiles.store import WriteResult
from services.vocabulary.homes import home_replica

__all__ = ["FORWARDED_HEADER", "MODES", "WriteRequest", "Writer"]

FORWARDED_HEADER = "X-Chaosbed-Forwarded-To"
MODES = ("async", "quorum")
BROKEN_COMMIT_DELAY_S = 0.3
BROKEN_FIELD_GAP_S = 0.02


@dataclass(frozen=True)
class WriteRequest:
    member: str
    patch: PreferencesPatch
    key: str
    mode: str
    base_version: int | None = None


def parse_mode(raw: str | None) -> str:
    mode = raw or "async"
    if mode not in MODES:
        raise InvalidField("mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


class Writer:
    def __init__(
        self, settings: ProfilesSettings, store: AsyncProfileStore, replicator: Replicator
    ) -> None:
        self.settings = settings
        self.store = store
        self.replicator = replicator
        self.peers = replicator.peers
        self._background: set[asyncio.Task[WriteResult]] = set()

    def home_of(self, member: str) -> str | None:
        """The replica to forward `member`'s writes to; None when this replica is the home."""
        if not self.peers:
            return None
        home = home_replica(member)
        return None if home == self.settings.service.name else home

    async def forward(
        self,
        request: web.Request,
        home: str,
        body: object,
        headers: dict[str, str],
        *,
        idempotent: bool = True,
    ) -> web.Response:
        """Pass the write on to `home` (retried only when `idempotent`) and its answer back."""
        dependency = self.replicator.dependency(home)
        try:
            answer = await dependency.request(
                request.method,
                request.path,
                json=body,
                params=dict(request.query),
                headers=headers,
                idempotent=idempotent,
            )
        except DependencyError as exc:
            response = json_error(503, f"home replica {home} unavailable: {exc}")
            return mark_upstream_failure(response, home, dependency)
        if not isinstance(answer.data, dict):  # not a profile, nor an error: outcome unknown
            message = (
                f"home replica {home} answered {answer.status} with a body that is not a JSON"
                " object: whether the write was applied is unknown; retry with the same"
                " Idempotency-Key"
            )
            return mark_upstream_failure(json_error(502, message), home, dependency)
        out = web.json_response(answer.data, status=answer.status)
        out.headers[FORWARDED_HEADER] = home
        for name in (HEADER, "Idempotency-Replayed"):
            if name in answer.headers:
                out.headers[name] = answer.headers[name]
        return out

    async def commit(self, write: WriteRequest) -> tuple[WriteResult, bool]:
        """Commit on this (home) replica; (result, acknowledged by the mode's rule)."""
        if mutants.active("ack-before-commit"):
            return await self._ack_before_commit(write), True
        if mutants.active("field-per-txn"):
            return await self._field_per_txn(write), True
        result = await self._write(write.patch, write, write.key)
        if write.mode != "quorum":
            return result, True
        # the member's current version: a majority holding it holds this write
        # or a later whole version (also for a replayed key)
        entries = await self.store.entries([write.member])
        return result, bool(entries) and await self.replicator.quorum(entries[0])

    async def _write(self, patch: PreferencesPatch, write: WriteRequest, key: str) -> WriteResult:
        result = await self.store.write(
            write.member,
            patch,
            key,
            fingerprint(write.member, patch, write.base_version),
            base_version=write.base_version,
            peers=self.peers,
        )
        self.replicator.committed()
        return result

    async def _ack_before_commit(self, write: WriteRequest) -> WriteResult:
        current = await self.store.get(write.member)
        predicted = Profile(
            write.member, write.patch.apply_to(current.preferences), current.version + 1
        )

        async def later() -> WriteResult:
            await asyncio.sleep(BROKEN_COMMIT_DELAY_S)
            return await self._write(write.patch, write, write.key)

        task = asyncio.create_task(later())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return WriteResult(predicted, replayed=False)

    async def _field_per_txn(self, write: WriteRequest) -> WriteResult:
        result: WriteResult | None = None
        for name, value in write.patch.changes().items():
            one = PreferencesPatch(**{name: value})
            result = await self._write(one, write, f"{write.key}#{name}")
            write = replace(write, base_version=None)
            await asyncio.sleep(BROKEN_FIELD_GAP_S)
        assert result is not None  # a patch changes at least one field
        return result
