"""The last good popular list per region: what the homepage falls back to.

Filled from every successful ``GET /popular`` (requests and the background
refresher alike). Entries do not expire: a stale popular list is a better
homepage than none, and the catalog's popularity moves slowly. The cache is
bounded by region count (LRU), and each list by `max_titles`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.vocabulary import Title

Clock = Callable[[], float]


@dataclass(frozen=True)
class CachedPopular:
    titles: tuple[Title, ...]
    fetched_at: float

    def age_s(self, now: float) -> float:
        return max(0.0, now - self.fetched_at)


class PopularCache:
    def __init__(
        self, *, max_regions: int = 64, max_titles: int = 200, clock: Clock = time.monotonic
    ) -> None:
        if max_regions < 1 or max_titles < 1:
            raise ValueError("cache bounds must be at least 1")
        self.max_regions = max_regions
        self.max_titles = max_titles
        self.clock = clock
        self._entries: OrderedDict[str, CachedPopular] = OrderedDict()

    def put(self, region: str, titles: Sequence[Title]) -> None:
        self._entries[region] = CachedPopular(tuple(titles[: self.max_titles]), self.clock())
        self._entries.move_to_end(region)
        while len(self._entries) > self.max_regions:
            self._entries.popitem(last=False)

    def get(self, region: str) -> CachedPopular | None:
        entry = self._entries.get(region)
        if entry is not None:
            self._entries.move_to_end(region)
        return entry

    def regions(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, region: object) -> bool:
        return region in self._entries

    def __len__(self) -> int:
        return len(self._entries)
