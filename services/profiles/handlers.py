"""HTTP handlers of profiles: read a profile, write preferences once per key."""

from __future__ import annotations

from aiohttp import web

from services.common import InvalidField, bad_request, json_error, read_json
from services.profiles.async_store import AsyncProfileStore
from services.profiles.errors import IdempotencyConflict, StoreError
from services.profiles.idempotency import HEADER, fingerprint, parse_key
from services.profiles.metrics import WriteMetrics
from services.profiles.validation import parse_patch
from services.vocabulary import parse_member

STORE = web.AppKey("profile_store", AsyncProfileStore)
WRITE_METRICS = web.AppKey("profile_write_metrics", WriteMetrics)
REPLAYED_HEADER = "Idempotency-Replayed"


def _unavailable(exc: StoreError) -> web.Response:
    return json_error(503, f"profile store unavailable: {exc}")


async def get_profile(request: web.Request) -> web.Response:
    try:
        member = parse_member(request.match_info["member"])
    except InvalidField as exc:
        return bad_request(exc)
    try:
        profile = await request.app[STORE].get(member)
    except StoreError as exc:
        return _unavailable(exc)
    return web.json_response(profile.to_json())


async def patch_profile(request: web.Request) -> web.Response:
    """Validate everything first, then apply in one transaction, once per key."""
    metrics = request.app[WRITE_METRICS]
    try:
        member = parse_member(request.match_info["member"])
        key = parse_key(request.headers.get(HEADER))
        patch = parse_patch(await read_json(request))
    except InvalidField as exc:
        metrics.write("invalid")
        return bad_request(exc)
    try:
        result = await request.app[STORE].write(member, patch, key, fingerprint(member, patch))
    except IdempotencyConflict as exc:
        metrics.write("conflict")
        return json_error(422, str(exc), field=HEADER)
    except StoreError as exc:
        metrics.write("failed")
        return _unavailable(exc)
    metrics.write("replayed" if result.replayed else "applied")
    headers = {REPLAYED_HEADER: "true"} if result.replayed else None
    return web.json_response(result.profile.to_json(), headers=headers)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/profiles/{member}", get_profile)
    app.router.add_patch("/profiles/{member}", patch_profile)
