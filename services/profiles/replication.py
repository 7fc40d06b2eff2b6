"""Replication between profile replicas: push per peer, anti-entropy pull, quorum acks.

- Push: one task per peer sends the versions that peer has not acknowledged
  (the outbox, oldest first, in batches) to ``POST /replication/apply``; the
  peer answers after its commit, and only then is the outbox row removed. A
  failed push is retried (the kit dependency retries, then the loop backs off).
- Anti-entropy: every `anti_entropy_s` each replica asks every peer for its
  member versions and pulls the members where the peer is ahead. This is
  what converges replicas after a partition heals or a restart, whatever the
  outboxes hold.
- Quorum: after its commit, the home replica pushes the version to every peer
  at once and reports whether one of them (a majority of three with itself)
  applied it within the quorum timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping

from aiohttp import web

from services.common import DEPENDENCIES, Dependency, DependencyError
from services.profiles.async_store import AsyncProfileStore
from services.profiles.errors import StoreError
from services.profiles.replica_log import LogEntry
from services.profiles.replication_metrics import ReplicationMetrics

__all__ = ["Replicator", "entries_json", "read_entries"]

log = logging.getLogger(__name__)

BATCH = 64
IDLE_WAIT_S = 0.2
FAILURE_BACKOFF_S = 0.2


def entries_json(entries: list[LogEntry]) -> dict[str, object]:
    return {"entries": [entry.to_json() for entry in entries]}


def read_entries(data: object) -> list[LogEntry]:
    """The entries of an ``{"entries": [...]}`` body; ValueError names what is wrong."""
    if not isinstance(data, Mapping) or not isinstance(data.get("entries"), list):
        raise ValueError("entries: must be a JSON object with a list of log entries")
    return [LogEntry.from_json(item) for item in data["entries"]]


class Replicator:
    def __init__(
        self,
        store: AsyncProfileStore,
        metrics: ReplicationMetrics,
        peers: tuple[str, ...],
        *,
        anti_entropy_s: float,
        quorum_timeout_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.peers = peers
        self.anti_entropy_s = anti_entropy_s
        self.quorum_timeout_s = quorum_timeout_s
        self._clock = clock
        self._wake = {peer: asyncio.Event() for peer in peers}
        self._deps: dict[str, Dependency] = {}

    def bind(self, dependencies: dict[str, Dependency]) -> None:
        self._deps = {peer: dependencies[peer] for peer in self.peers}

    def dependency(self, peer: str) -> Dependency:
        return self._deps[peer]

    def committed(self) -> None:
        """A new version was committed here: wake every pusher."""
        for event in self._wake.values():
            event.set()

    async def apply(self, entries: list[LogEntry], via: str) -> list[LogEntry]:
        applied = await self.store.apply(entries)
        now = self._clock()
        self.metrics.applied_versions(via, len(applied), [now - e.committed_at for e in applied])
        return applied

    # -- push ---------------------------------------------------------------

    async def _push(self, peer: str, entries: list[LogEntry]) -> None:
        response = await self._deps[peer].request(
            "POST", "/replication/apply", json=entries_json(entries), idempotent=True
        )
        if response.status != 200:
            raise DependencyError(peer, f"apply answered {response.status}")

    async def _push_loop(self, peer: str) -> None:
        wake = self._wake[peer]
        while True:
            wake.clear()
            try:
                entries = await self.store.pending(peer, BATCH)
                if entries:
                    await self._push(peer, entries)
                    await self.store.acknowledge(peer, entries)
                await self._report(peer)
            except (DependencyError, StoreError) as exc:
                log.debug("push to %s failed: %s", peer, exc)
                await self._report(peer)
                await asyncio.sleep(FAILURE_BACKOFF_S)
                continue
            if len(entries) < BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), IDLE_WAIT_S)

    async def _report(self, peer: str) -> None:
        with contextlib.suppress(StoreError):
            count, oldest = await self.store.pending_stats(peer)
            lag = 0.0 if oldest is None else max(0.0, self._clock() - oldest)
            self.metrics.peer_state(peer, count, lag)

    # -- anti-entropy -------------------------------------------------------

    async def pull(self, peer: str, members: list[str] | None = None) -> int:
        """Apply every version `peer` holds that is newer here (only of `members` if given)."""
        if members is None:
            answer = await self._deps[peer].get("/replication/versions")
            theirs = answer.data["versions"] if isinstance(answer.data, dict) else {}
            mine = await self.store.versions()
            members = [m for m, v in theirs.items() if v > mine.get(m, 0)]
        applied = 0
        for start in range(0, len(members), BATCH):
            chunk = members[start : start + BATCH]
            answer = await self._deps[peer].request(
                "POST", "/replication/entries", json={"members": chunk}, idempotent=True
            )
            applied += len(await self.apply(read_entries(answer.data), "pull"))
        return applied

    async def _anti_entropy_loop(self) -> None:
        while True:
            await asyncio.sleep(self.anti_entropy_s)
            for peer in self.peers:
                try:
                    await self.pull(peer)
                except (DependencyError, StoreError, ValueError, KeyError, TypeError) as exc:
                    log.debug("anti-entropy with %s failed: %s", peer, exc)

    # -- quorum -------------------------------------------------------------

    async def quorum(self, entry: LogEntry) -> bool:
        """True once one peer (with this replica, a majority of three) applied `entry`."""
        if not self.peers:
            return True
        tasks = [asyncio.create_task(self._push(peer, [entry])) for peer in self.peers]
        deadline = asyncio.get_running_loop().time() + self.quorum_timeout_s
        try:
            pending = set(tasks)
            while pending:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    return False
                done, pending = await asyncio.wait(
                    pending, timeout=left, return_when=asyncio.FIRST_COMPLETED
                )
                if any(not task.cancelled() and task.exception() is None for task in done):
                    return True
            return False
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- lifecycle ----------------------------------------------------------

    async def run(self, app: web.Application) -> AsyncIterator[None]:
        """cleanup_ctx: bind the peer dependencies and run the background tasks."""
        self.bind(app[DEPENDENCIES])
        tasks = [asyncio.create_task(self._push_loop(peer)) for peer in self.peers]
        if self.peers:
            tasks.append(asyncio.create_task(self._anti_entropy_loop()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
