"""The profile store for the event loop: every call runs on one dedicated thread.

One thread owns the SQLite connection (it opens, uses and closes it), so
calls are serialised in arrival order and the loop never blocks on disk. A
write whose request is cancelled still completes on that thread and is
recorded under its idempotency key, so the client's retry gets its answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from services.profiles.errors import StoreError
from services.profiles.model import PreferencesPatch, Profile
from services.profiles.plays import PlayRecorded
from services.profiles.replica_log import LogEntry
from services.profiles.store import DEFAULT_IDEMPOTENCY_TTL_S, ProfileStore, WriteResult

P = ParamSpec("P")
T = TypeVar("T")


class AsyncProfileStore:
    """Created closed (no I/O); `open()` and `close()` run in the app's cleanup_ctx."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        idempotency_ttl_s: float = DEFAULT_IDEMPOTENCY_TTL_S,
    ) -> None:
        self.path = path
        self._clock = clock
        self._ttl_s = idempotency_ttl_s
        self._executor: ThreadPoolExecutor | None = None
        self._store: ProfileStore | None = None

    @property
    def is_open(self) -> bool:
        return self._store is not None and self._store.is_open

    async def open(self) -> None:
        if self._executor is not None:
            raise StoreError("the profile store is already open")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="profiles-db")
        try:
            self._store = await self._run(
                ProfileStore.open, self.path, clock=self._clock, idempotency_ttl_s=self._ttl_s
            )
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise

    async def close(self) -> None:
        executor, store = self._executor, self._store
        self._executor, self._store = None, None
        if executor is None:
            return
        if store is not None:
            await asyncio.get_running_loop().run_in_executor(executor, store.close)
        executor.shutdown(wait=True)

    async def get(self, member: str) -> Profile:
        return await self._run(self._open_store().get, member)

    async def write(
        self,
        member: str,
        patch: PreferencesPatch,
        key: str,
        fingerprint: str,
        *,
        base_version: int | None = None,
        peers: tuple[str, ...] = (),
    ) -> WriteResult:
        store = self._open_store()
        return await self._run(
            store.write, member, patch, key, fingerprint, base_version=base_version, peers=peers
        )

    async def apply(self, entries: list[LogEntry]) -> list[LogEntry]:
        return await self._run(self._open_store().apply, entries)

    async def record_play(self, member: str, title: int, request_id: str) -> PlayRecorded:
        return await self._run(self._open_store().record_play, member, title, request_id)

    async def versions(self) -> dict[str, int]:
        return await self._run(self._open_store().versions)

    async def entries(self, members: list[str] | None = None) -> list[LogEntry]:
        return await self._run(self._open_store().entries, members)

    async def pending(self, peer: str, limit: int) -> list[LogEntry]:
        return await self._run(self._open_store().pending, peer, limit)

    async def pending_stats(self, peer: str) -> tuple[int, float | None]:
        return await self._run(self._open_store().pending_stats, peer)

    async def acknowledge(self, peer: str, entries: list[LogEntry]) -> None:
        await self._run(self._open_store().acknowledge, peer, entries)

    def _open_store(self) -> ProfileStore:
        if self._store is None:
            raise StoreError("the profile store is not open")
        return self._store

    async def _run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._executor is None:
            raise StoreError("the profile store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: func(*args, **kwargs))
