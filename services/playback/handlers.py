"""``POST /playback/start``: check, then hand out a manifest.

Every attempt is counted once in ``chaosbed_playback_starts_total`` (see
starts.py). A start allowed with the member's own profile is recorded in
their play log at profiles, with one try (plays.py). The degraded
trade-off is in the package docstring and README.
"""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import web

from services.common import (
    DEPENDENCIES,
    METRICS,
    Dependency,
    InvalidField,
    bad_request,
    current_cohort,
    json_error,
    mark_upstream_failure,
    read_json,
)
from services.vocabulary import Title

from .cache import TTLCache
from .lookups import (
    ALL_AGES_ONLY,
    CACHED_TITLE,
    ProfileLookup,
    TitleLookup,
    lookup_profile,
    lookup_title,
)
from .manifest import build_manifest
from .plays import record_play
from .policy import decide
from .request import StartRequest, parse_start_request
from .settings import PlaybackSettings
from .starts import StartsCounter

SETTINGS_KEY = web.AppKey("playback_settings", PlaybackSettings)
STARTS = web.AppKey("playback_starts", StartsCounter)
PROFILE_CACHE = web.AppKey("profile_cache", TTLCache[str, str])
TITLE_CACHE = web.AppKey("title_cache", TTLCache[int, Title])


async def start(request: web.Request) -> web.Response:
    cohort = current_cohort()
    outcome = "failed"  # anything unexpected (an exception) counts as failed
    try:
        response, outcome = await _start(request)
        return response
    finally:
        request.app[STARTS].count(outcome, cohort)


async def _start(request: web.Request) -> tuple[web.Response, str]:
    app = request.app
    settings = app[SETTINGS_KEY]
    try:
        req = parse_start_request(await read_json(request), settings.default_region)
    except InvalidField as exc:
        return bad_request(exc), "denied"

    deps = app[DEPENDENCIES]
    title_lookup, profile_lookup = await asyncio.gather(
        lookup_title(deps["catalog"], req.title, app[TITLE_CACHE]),
        lookup_profile(deps["profiles"], req.member, app[PROFILE_CACHE]),
    )
    metrics = app[METRICS]
    title = title_lookup.title
    if title is None:
        if title_lookup.missing:
            return json_error(404, f"title {req.title} does not exist", title=req.title), "denied"
        metrics.fallback(CACHED_TITLE, "failed")
        message = f"catalog unavailable and title {req.title} not cached: availability unknown"
        return _unavailable(message, "catalog_unavailable", deps["catalog"]), "failed"

    decision = decide(title, req.region, profile_lookup.maturity_level)
    used = _fallbacks_used(title_lookup, profile_lookup, decision.reason)
    for name in used:
        refused = name == ALL_AGES_ONLY and decision.reason == "profile_unavailable"
        metrics.fallback(name, "failed" if refused else "served")
    degraded = {"degraded": bool(used), "fallback": "+".join(used) or None}
    if decision.status == 503:
        message, reason = decision.message or "", decision.reason or ""
        return _unavailable(message, reason, deps["profiles"], **degraded), "failed"
    if not decision.allowed:
        body403 = {"member": req.member, "title": req.title, "reason": decision.reason, **degraded}
        return json_error(403, decision.message or "forbidden", **body403), decision.outcome
    if profile_lookup.fallback is None:  # profiles just answered: record the play there
        await record_play(deps["profiles"], req.member, req.title)
    return web.json_response(_started(req, title, settings, **degraded)), decision.outcome


def _fallbacks_used(
    title_lookup: TitleLookup, profile_lookup: ProfileLookup, reason: str | None
) -> list[str]:
    """The fallbacks that decided this answer, profiles' first.

    A region refusal is decided by the title alone, so the profile's fallback
    (if any) played no part in it.
    """
    used = []
    if profile_lookup.fallback is not None and reason != "region":
        used.append(profile_lookup.fallback)
    if title_lookup.fallback is not None:
        used.append(title_lookup.fallback)
    return used


def _unavailable(message: str, reason: str, failed: Dependency, **extra: object) -> web.Response:
    extra.setdefault("degraded", True)
    extra.setdefault("fallback", None)
    response = json_error(503, message, reason=reason, **extra)
    return mark_upstream_failure(response, failed.name, failed)


def _started(
    req: StartRequest, title: Title, settings: PlaybackSettings, **degraded: object
) -> dict[str, object]:
    session = uuid.uuid4().hex
    return {
        "member": req.member,
        "title": req.title,
        "manifest": build_manifest(title, req.member, req.region, session, settings.cdns),
        **degraded,
    }
