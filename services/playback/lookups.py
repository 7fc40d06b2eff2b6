"""Reading a title and a member's maturity level, with the caches behind them.

Each successful answer refreshes its cache; when a dependency gives no usable
answer (any `DependencyError`, an unexpected status, a malformed body) the
cached value is used if it is still fresh, and the lookup says so with the
name of the fallback it served.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

from services.common import Dependency, DependencyError, mutants
from services.vocabulary import Title, preferences_from_profile

from .cache import TTLCache

log = logging.getLogger(__name__)

CACHED_TITLE = "cached_title"
CACHED_PROFILE = "cached_profile"
ALL_AGES_ONLY = "all_ages_only"
# Each fallback and the dependency it stands in for (the metrics label).
FALLBACKS = {CACHED_PROFILE: "profiles", ALL_AGES_ONLY: "profiles", CACHED_TITLE: "catalog"}


@dataclass(frozen=True)
class TitleLookup:
    title: Title | None  # None: unknown (missing) or unavailable
    missing: bool = False  # the catalog said 404
    fallback: str | None = None  # CACHED_TITLE when the cache answered


@dataclass(frozen=True)
class ProfileLookup:
    maturity_level: str | None  # None: unavailable and not cached
    fallback: str | None = None  # CACHED_PROFILE or ALL_AGES_ONLY


class Unusable(Exception):
    """The dependency answered, but not with something we can use."""


async def lookup_title(
    catalog: Dependency, title_id: int, cache: TTLCache[int, Title]
) -> TitleLookup:
    try:
        response = await catalog.get(f"/titles/{title_id}")
        if response.status == 404:
            cache.discard(title_id)
            return TitleLookup(None, missing=True)
        if response.status != 200:
            raise Unusable(f"catalog answered HTTP {response.status}")
        title = Title.from_json(response.data)
    except (DependencyError, Unusable, ValueError) as exc:
        cached = cache.get(title_id)
        log.debug("catalog unavailable for title %d (cached: %s): %s", title_id, bool(cached), exc)
        return TitleLookup(cached, fallback=CACHED_TITLE if cached else None)
    cache.put(title_id, title)
    return TitleLookup(title)


async def lookup_profile(
    profiles: Dependency, member: str, cache: TTLCache[str, str]
) -> ProfileLookup:
    try:
        response = await profiles.get(f"/profiles/{quote(member, safe='')}")
        if response.status != 200:
            raise Unusable(f"profiles answered HTTP {response.status}")
        level = preferences_from_profile(response.data).maturity_level
    except (DependencyError, Unusable, ValueError) as exc:
        cached = None if mutants.active("no-cached-profile") else cache.get(member)
        log.debug("profiles unavailable (cached: %s): %s", cached is not None, exc)
        if cached is not None:
            return ProfileLookup(cached, fallback=CACHED_PROFILE)
        return ProfileLookup(None, fallback=ALL_AGES_ONLY)
    cache.put(member, level)
    return ProfileLookup(level)
