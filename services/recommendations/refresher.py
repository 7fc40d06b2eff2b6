"""Keeps the popular cache warm in the background.

At startup the cache is empty. The refresher seeds it best-effort: it asks
the catalog for the default region's popular list at once and, until that
succeeds, every `seed_retry_s`; afterwards it refreshes every region it holds
every `popular_refresh_s`. Startup and readiness never wait for it: while
the catalog is up, requests do not need the cache (and fill it themselves);
a request that finds the catalog down *and* its region not cached gets 503.
"""

from __future__ import annotations

import asyncio
import logging

from services.common import Dependency

from .popular_cache import PopularCache
from .settings import RecommendationsSettings
from .sources import SourceUnavailable, fetch_popular

log = logging.getLogger(__name__)


async def refresh_once(
    catalog: Dependency, cache: PopularCache, settings: RecommendationsSettings
) -> bool:
    """Refresh the default region and every cached one; True if all succeeded."""
    regions = dict.fromkeys([settings.default_region, *cache.regions()])
    ok = True
    for region in regions:
        try:
            cache.put(region, await fetch_popular(catalog, region, settings.candidate_limit))
        except SourceUnavailable as exc:
            ok = False
            log.debug("popular list for %s not refreshed: %s", region, exc)
    return ok


async def refresh_forever(
    catalog: Dependency, cache: PopularCache, settings: RecommendationsSettings
) -> None:
    seeded = warned = False
    while True:
        ok = await refresh_once(catalog, cache, settings)
        if not seeded and settings.default_region in cache:
            seeded = True
            log.info("popular cache seeded for %s", settings.default_region)
        elif not seeded and not ok and not warned:
            warned = True
            log.warning(
                "popular cache not seeded (catalog unavailable); retrying every %.1fs",
                settings.seed_retry_s,
            )
        await asyncio.sleep(settings.popular_refresh_s if seeded else settings.seed_retry_s)
