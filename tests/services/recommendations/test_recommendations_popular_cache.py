"""The popular cache: last good list per region, bounded."""

from __future__ import annotations

import pytest

from services.recommendations.popular_cache import PopularCache
from services.vocabulary import REGIONS, Title


def titles(n: int) -> list[Title]:
    return [Title(i, f"T{i}", ("drama",), "all", REGIONS, 1.0, 2020, 90) for i in range(1, n + 1)]


def test_get_returns_the_last_list_put_for_a_region() -> None:
    cache = PopularCache()
    cache.put("US", titles(2))
    cache.put("US", titles(3))
    entry = cache.get("US")
    assert entry is not None and len(entry.titles) == 3


def test_a_region_never_put_is_a_miss() -> None:
    assert PopularCache().get("US") is None


def test_entries_record_when_they_were_fetched() -> None:
    now = [100.0]
    cache = PopularCache(clock=lambda: now[0])
    cache.put("US", titles(1))
    now[0] = 130.0
    entry = cache.get("US")
    assert entry is not None and entry.age_s(now[0]) == 30.0


def test_least_recently_used_region_is_evicted_past_the_bound() -> None:
    cache = PopularCache(max_regions=2)
    cache.put("US", titles(1))
    cache.put("GB", titles(1))
    cache.get("US")
    cache.put("JP", titles(1))
    assert cache.regions() == ["US", "JP"]


def test_each_list_is_capped_at_max_titles() -> None:
    cache = PopularCache(max_titles=5)
    cache.put("US", titles(20))
    entry = cache.get("US")
    assert entry is not None and len(entry.titles) == 5


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PopularCache(max_regions=0)
