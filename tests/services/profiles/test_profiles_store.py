"""The SQLite store: versions, idempotent writes, atomicity, durability."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.profiles.errors import IdempotencyConflict, StoreError
from services.profiles.idempotency import fingerprint
from services.profiles.store import ProfileStore
from services.profiles.validation import parse_patch
from services.vocabulary import NEW_MEMBER_PREFERENCES

REPO = Path(__file__).resolve().parents[3]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[ProfileStore]:
    opened = ProfileStore.open(tmp_path / "profiles.db", clock=clock, idempotency_ttl_s=60.0)
    yield opened
    opened.close()


def write(store: ProfileStore, member: str, body: dict[str, object], key: str) -> int:
    patch = parse_patch(body)
    return store.write(member, patch, key, fingerprint(member, patch)).profile.version


def test_a_member_never_written_has_the_defaults_at_version_zero(store: ProfileStore) -> None:
    profile = store.get("m-1")
    assert (profile.preferences, profile.version) == (NEW_MEMBER_PREFERENCES, 0)


def test_each_applied_write_adds_one_to_the_version(store: ProfileStore) -> None:
    assert write(store, "m-1", {"subtitles": True}, "k1") == 1
    assert write(store, "m-1", {"autoplay": False}, "k2") == 2
    profile = store.get("m-1")
    assert profile.version == 2
    assert profile.preferences.subtitles is True and profile.preferences.autoplay is False


def test_a_retried_write_applies_once_and_returns_the_original_answer(store: ProfileStore) -> None:
    patch = parse_patch({"maturity_level": "13+"})
    first = store.write("m-1", patch, "k1", fingerprint("m-1", patch))
    write(store, "m-1", {"subtitles": True}, "k2")
    again = store.write("m-1", patch, "k1", fingerprint("m-1", patch))
    assert (first.replayed, again.replayed) == (False, True)
    assert again.profile == first.profile
    assert store.get("m-1").version == 2


def test_the_same_key_for_a_different_write_is_a_conflict(store: ProfileStore) -> None:
    write(store, "m-1", {"subtitles": True}, "k1")
    with pytest.raises(IdempotencyConflict):
        write(store, "m-1", {"subtitles": False}, "k1")
    with pytest.raises(IdempotencyConflict):
        write(store, "m-2", {"subtitles": True}, "k1")
    assert store.get("m-1").preferences.subtitles is True
    assert store.get("m-2").version == 0


def test_a_key_is_forgotten_after_its_ttl(store: ProfileStore, clock: FakeClock) -> None:
    write(store, "m-1", {"subtitles": True}, "k1")
    clock.now += 61.0
    assert write(store, "m-1", {"subtitles": True}, "k1") == 2


def test_a_write_that_fails_midway_changes_nothing(store: ProfileStore) -> None:
    write(store, "m-1", {"languages": ["de"]}, "k1")
    patch = parse_patch({"subtitles": True, "languages": ["fr"]})
    # The profile row is updated first; recording the key then fails (NOT NULL).
    with pytest.raises(StoreError):
        store.write("m-1", patch, "k2", None)  # type: ignore[arg-type]
    profile = store.get("m-1")
    assert profile.version == 1
    assert (profile.preferences.subtitles, profile.preferences.languages) == (False, ("de",))
    assert write(store, "m-1", {"subtitles": True}, "k2") == 2


def test_the_database_is_in_wal_mode(store: ProfileStore, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "profiles.db") as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_parent_directories_are_created(tmp_path: Path) -> None:
    opened = ProfileStore.open(tmp_path / "a" / "b" / "profiles.db")
    opened.close()
    assert (tmp_path / "a" / "b" / "profiles.db").exists()


def test_an_unusable_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError, match="cannot open"):
        ProfileStore.open(tmp_path / "file" / "profiles.db")


def test_a_closed_store_refuses_calls(store: ProfileStore) -> None:
    store.close()
    assert not store.is_open
    with pytest.raises(StoreError, match="closed"):
        store.get("m-1")


def test_an_acknowledged_write_survives_the_process_being_killed(tmp_path: Path) -> None:
    path = tmp_path / "profiles.db"
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from services.profiles.store import ProfileStore\n"
        "from services.profiles.idempotency import fingerprint\n"
        "from services.profiles.validation import parse_patch\n"
        "store = ProfileStore.open(Path(sys.argv[1]))\n"
        "patch = parse_patch({'maturity_level': '7+', 'favourite_genres': ['comedy']})\n"
        "store.write('m-9', patch, 'k', fingerprint('m-9', patch))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=REPO, env=dict(os.environ), check=False
    )
    assert result.returncode == -9
    reopened = ProfileStore.open(path)
    try:
        profile = reopened.get("m-9")
    finally:
        reopened.close()
    assert profile.version == 1
    assert profile.preferences.maturity_level == "7+"
    assert profile.preferences.favourite_genres == ("comedy",)
