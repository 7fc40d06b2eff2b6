"""The store on the event loop: opened and closed explicitly, one thread for SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.profiles.async_store import AsyncProfileStore
from services.profiles.errors import StoreError
from services.profiles.idempotency import fingerprint
from services.profiles.validation import parse_patch


async def test_calls_before_open_are_store_errors(tmp_path: Path) -> None:
    store = AsyncProfileStore(tmp_path / "profiles.db")
    assert not store.is_open
    assert not (tmp_path / "profiles.db").exists()
    with pytest.raises(StoreError, match="not open"):
        await store.get("m-1")


async def test_open_write_read_close(tmp_path: Path) -> None:
    store = AsyncProfileStore(tmp_path / "profiles.db")
    await store.open()
    try:
        assert store.is_open
        patch = parse_patch({"autoplay": False})
        result = await store.write("m-1", patch, "k", fingerprint("m-1", patch))
        assert (result.profile.version, result.replayed) == (1, False)
        assert (await store.get("m-1")).preferences.autoplay is False
    finally:
        await store.close()
    assert not store.is_open
    with pytest.raises(StoreError):
        await store.get("m-1")


async def test_opening_twice_is_refused(tmp_path: Path) -> None:
    store = AsyncProfileStore(tmp_path / "profiles.db")
    await store.open()
    try:
        with pytest.raises(StoreError, match="already open"):
            await store.open()
    finally:
        await store.close()


async def test_a_failed_open_leaves_the_store_closed(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    store = AsyncProfileStore(tmp_path / "file" / "profiles.db")
    with pytest.raises(StoreError):
        await store.open()
    assert not store.is_open
    await store.close()
