"""The bounded LRU cache with expiry behind playback's fallbacks."""

from __future__ import annotations

import pytest

from services.playback.cache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cache(max_entries: int = 3, ttl_s: float = 10.0) -> tuple[TTLCache[str, int], Clock]:
    clock = Clock()
    return TTLCache(max_entries=max_entries, ttl_s=ttl_s, clock=clock), clock


def test_a_fresh_entry_is_returned() -> None:
    c, _ = cache()
    c.put("a", 1)
    assert c.get("a") == 1


def test_an_entry_expires_after_its_ttl() -> None:
    c, clock = cache(ttl_s=10.0)
    c.put("a", 1)
    clock.now += 9.9
    assert c.get("a") == 1
    clock.now += 0.1
    assert c.get("a") is None
    assert len(c) == 0


def test_writing_again_restarts_the_ttl() -> None:
    c, clock = cache(ttl_s=10.0)
    c.put("a", 1)
    clock.now += 8
    c.put("a", 2)
    clock.now += 8
    assert c.get("a") == 2


def test_the_least_recently_used_entry_goes_first() -> None:
    c, _ = cache(max_entries=2)
    c.put("a", 1)
    c.put("b", 2)
    c.get("a")
    c.put("c", 3)
    assert (c.get("a"), c.get("b"), c.get("c")) == (1, None, 3)


def test_size_never_exceeds_the_bound() -> None:
    c, _ = cache(max_entries=3)
    for i in range(100):
        c.put(str(i), i)
    assert len(c) == 3


def test_discard_removes_an_entry() -> None:
    c, _ = cache()
    c.put("a", 1)
    c.discard("a")
    c.discard("missing")
    assert c.get("a") is None


@pytest.mark.parametrize(("max_entries", "ttl_s"), [(0, 1.0), (1, 0.0)])
def test_bounds_must_be_positive(max_entries: int, ttl_s: float) -> None:
    with pytest.raises(ValueError):
        TTLCache(max_entries=max_entries, ttl_s=ttl_s)
