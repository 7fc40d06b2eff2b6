"""``GET /recommendations/{member}[?region=]``: the homepage rows.

Fallbacks (each one served is counted with ``metrics.fallback(name, "served")``):

- profiles unavailable (down, slow, erroring, or an unusable answer): rank
  with `PROFILE_UNAVAILABLE_PREFERENCES` (maturity "13+", no favourite
  genres); fallback ``default_preferences``.
- catalog unavailable (any of this request's catalog calls fails): build the
  rows from the cached popular list of the region alone; fallback
  ``cached_popular``. With nothing cached for the region the answer is 503
  and ``metrics.fallback("cached_popular", "failed")`` is counted.
- both: fallback ``"default_preferences+cached_popular"``, one string,
  profiles' part first, so ``fallback`` is always null or a string.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web

from services.common import (
    DEPENDENCIES,
    METRICS,
    Dependency,
    InvalidField,
    bad_request,
    json_error,
    mark_upstream_failure,
    mutants,
)
from services.vocabulary import (
    PROFILE_UNAVAILABLE_PREFERENCES,
    REGIONS,
    Preferences,
    Title,
    parse_member,
)

from .popular_cache import PopularCache
from .ranking import genre_candidates_from, rank_rows
from .settings import RecommendationsSettings
from .sources import SourceUnavailable, fetch_genre, fetch_popular, fetch_preferences

log = logging.getLogger(__name__)

DEFAULT_PREFERENCES_FALLBACK = "default_preferences"
CACHED_POPULAR_FALLBACK = "cached_popular"
# Each fallback and the dependency it stands in for (the metrics label).
FALLBACKS = {DEFAULT_PREFERENCES_FALLBACK: "profiles", CACHED_POPULAR_FALLBACK: "catalog"}

SETTINGS_KEY = web.AppKey("recommendations_settings", RecommendationsSettings)
POPULAR_CACHE = web.AppKey("popular_cache", PopularCache)


@dataclass(frozen=True)
class Candidates:
    genres: dict[str, list[Title]]
    popular: list[Title]


async def recommendations(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SETTINGS_KEY]
    try:
        member = parse_member(request.match_info["member"])
        region = _region(request.query.get("region", settings.default_region))
    except InvalidField as exc:
        return bad_request(exc)

    deps = app[DEPENDENCIES]
    metrics = app[METRICS]
    profiles_result, popular_result = await asyncio.gather(
        _preferences(deps["profiles"], member),
        _popular(deps["catalog"], region, settings.candidate_limit),
    )
    fallbacks: list[str] = []
    prefs = profiles_result
    if prefs is None and mutants.active("no-default-preferences"):
        response = json_error(503, "profiles unavailable", member=member, fallback=None)
        return mark_upstream_failure(response, "profiles", deps["profiles"])
    if prefs is None:
        prefs = PROFILE_UNAVAILABLE_PREFERENCES
        fallbacks.append(DEFAULT_PREFERENCES_FALLBACK)

    cache = app[POPULAR_CACHE]
    candidates = None
    if popular_result is not None:
        cache.put(region, popular_result)
        candidates = await _genre_candidates(deps["catalog"], prefs, popular_result, settings)
    if candidates is None:
        cached = None if mutants.active("no-cached-popular") else cache.get(region)
        if cached is None:
            metrics.fallback(CACHED_POPULAR_FALLBACK, "failed")
            response = json_error(
                503,
                f"catalog unavailable and no popular list cached for region {region}: "
                "cannot build a homepage",
                member=member,
                degraded=True,
                fallback=None,
            )
            return mark_upstream_failure(response, "catalog", deps["catalog"])
        popular = list(cached.titles)
        candidates = Candidates(genre_candidates_from(popular, prefs.favourite_genres), popular)
        fallbacks.append(CACHED_POPULAR_FALLBACK)

    for name in fallbacks:
        metrics.fallback(name, "served")
    rows = rank_rows(
        prefs,
        candidates.genres,
        candidates.popular,
        region=region,
        row_size=settings.row_size,
        max_genre_rows=settings.max_genre_rows,
    )
    return web.json_response(
        {
            "member": member,
            "region": region,
            "rows": [row.to_json() for row in rows],
            "degraded": bool(fallbacks),
            "fallback": "+".join(fallbacks) or None,
        }
    )


def _region(raw: str) -> str:
    if raw not in REGIONS:
        raise InvalidField("region", f"must be one of {', '.join(REGIONS)}")
    return raw


async def _preferences(profiles: Dependency, member: str) -> Preferences | None:
    try:
        return await fetch_preferences(profiles, member)
    except SourceUnavailable as exc:
        log.debug("profiles unavailable, ranking with defaults: %s", exc)
        return None


async def _popular(catalog: Dependency, region: str, limit: int) -> list[Title] | None:
    try:
        return await fetch_popular(catalog, region, limit)
    except SourceUnavailable as exc:
        log.debug("catalog unavailable for the popular list: %s", exc)
        return None


async def _genre_candidates(
    catalog: Dependency,
    prefs: Preferences,
    popular: list[Title],
    settings: RecommendationsSettings,
) -> Candidates | None:
    """Fresh candidates for the favourite-genre rows; None if any catalog call failed."""
    genres = prefs.favourite_genres[: settings.max_genre_rows]
    results = await asyncio.gather(
        *(fetch_genre(catalog, genre, settings.candidate_limit) for genre in genres),
        return_exceptions=True,
    )
    lists: list[list[Title]] = []
    for result in results:
        if isinstance(result, SourceUnavailable):
            log.debug("catalog unavailable for genre candidates: %s", result)
            return None
        if isinstance(result, BaseException):
            raise result
        lists.append(result)
    return Candidates(dict(zip(genres, lists, strict=True)), popular)
