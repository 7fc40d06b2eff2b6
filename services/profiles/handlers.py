"""HTTP handlers of profiles: read a profile, write preferences once per key, device sync.

GET   /profiles/{member}[?min_version=N]   one whole version, with its number
PATCH /profiles/{member}[?mode=quorum]     apply changes (Idempotency-Key required)
POST  /profiles/{member}/sync[?mode=...]   {"base_version": N, "changes": {...}}
POST  /profiles/{member}/plays             {"title": N}: append a play (not idempotent, plays.py)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aiohttp import web

from services.common import (
    InvalidField,
    bad_request,
    current,
    json_error,
    mutants,
    read_json,
)
from services.common.context import new_request_id
from services.profiles.async_store import AsyncProfileStore
from services.profiles.errors import IdempotencyConflict, StoreError, SyncConflict
from services.profiles.idempotency import HEADER, parse_key
from services.profiles.metrics import WriteMetrics
from services.profiles.model import PreferencesPatch
from services.profiles.plays import PlayMetrics, parse_play
from services.profiles.replication import Replicator
from services.profiles.replication_metrics import ReplicationMetrics
from services.profiles.validation import parse_patch
from services.profiles.writes import Writer, WriteRequest, parse_mode
from services.vocabulary import parse_member
from services.vocabulary.devices import DEVICE_TYPE_HEADER

STORE = web.AppKey("profile_store", AsyncProfileStore)
WRITE_METRICS = web.AppKey("profile_write_metrics", WriteMetrics)
REPLICATION_METRICS = web.AppKey("profile_replication_metrics", ReplicationMetrics)
REPLICATOR = web.AppKey("profile_replicator", Replicator)
WRITER = web.AppKey("profile_writer", Writer)
PLAY_METRICS = web.AppKey("profile_play_metrics", PlayMetrics)
REPLAYED_HEADER = "Idempotency-Replayed"
#: The kind of device a sync comes from (tv, mobile, web); passed on when forwarded.
BEHIND_RETRY_AFTER_S = 1


def _unavailable(exc: StoreError) -> web.Response:
    return json_error(503, f"profile store unavailable: {exc}")


def _min_version(raw: str | None) -> int:
    if raw is None:
        return 0
    if not raw.isdigit():
        raise InvalidField("min_version", f"must be a whole number >= 0, got {raw!r}")
    return int(raw)


async def get_profile(request: web.Request) -> web.Response:
    """The version held here; with min_version, pull from the home first if behind, else 503."""
    try:
        member = parse_member(request.match_info["member"])
        wanted = _min_version(request.query.get("min_version"))
    except InvalidField as exc:
        return bad_request(exc)
    if mutants.active("stale-replica-reads"):
        wanted = 0  # the regression: min_version is parsed, then ignored
    store, writer = request.app[STORE], request.app[WRITER]
    try:
        profile = await store.get(member)
        home = writer.home_of(member)
        if profile.version < wanted and home is not None:
            try:
                await request.app[REPLICATOR].pull(home, [member])
            except Exception:  # noqa: BLE001 - the home is unreachable: answer from here
                pass
            profile = await store.get(member)
    except StoreError as exc:
        return _unavailable(exc)
    if profile.version < wanted:
        response = json_error(
            503,
            f"this replica holds version {profile.version} of {member}, behind the"
            f" min_version {wanted} asked for; retry, or read another replica",
            version=profile.version,
            min_version=wanted,
        )
        response.headers["Retry-After"] = str(BEHIND_RETRY_AFTER_S)
        return response
    return web.json_response(profile.to_json())


async def _write(
    request: web.Request, body: object, parsed: WriteRequest, metric: str
) -> web.Response:
    app = request.app
    writer = app[WRITER]
    home = writer.home_of(parsed.member)
    if home is not None:
        if metric == "sync":
            app[REPLICATION_METRICS].sync("forwarded")
        passed_on = {HEADER: parsed.key}
        if DEVICE_TYPE_HEADER in request.headers:
            passed_on[DEVICE_TYPE_HEADER] = request.headers[DEVICE_TYPE_HEADER]
        return await writer.forward(request, home, body, passed_on)
    count = _counter(app, metric)
    try:
        result, acknowledged = await writer.commit(parsed)
    except IdempotencyConflict as exc:
        count("conflict" if metric == "write" else "invalid")
        return json_error(422, str(exc), field=HEADER)
    except SyncConflict as exc:
        count("conflict")
        return json_error(409, str(exc), current=exc.current.to_json())
    except StoreError as exc:
        count("failed")
        return _unavailable(exc)
    if not acknowledged:
        count("failed")
        return json_error(
            504,
            f"version {result.profile.version} is committed on this home replica but no"
            " other replica confirmed it in time: not acknowledged by a majority (it"
            " will still replicate)",
            version=result.profile.version,
        )
    count("replayed" if result.replayed else "applied")
    headers = {REPLAYED_HEADER: "true"} if result.replayed else None
    return web.json_response(result.profile.to_json(), headers=headers)


def _counter(app: web.Application, metric: str) -> Callable[[str], None]:
    return app[WRITE_METRICS].write if metric == "write" else app[REPLICATION_METRICS].sync


async def patch_profile(request: web.Request) -> web.Response:
    """Validate everything first, then apply in one transaction, once per key."""
    try:
        member = parse_member(request.match_info["member"])
        key = parse_key(request.headers.get(HEADER))
        mode = parse_mode(request.query.get("mode"))
        body = await read_json(request)
        patch = parse_patch(body)
    except InvalidField as exc:
        request.app[WRITE_METRICS].write("invalid")
        return bad_request(exc)
    return await _write(request, body, WriteRequest(member, patch, key, mode), "write")


def parse_sync(body: object) -> tuple[int, object]:
    """(base_version, changes) of a sync body; InvalidField names the bad field."""
    if not isinstance(body, Mapping):
        raise InvalidField("body", 'must be {"base_version": N, "changes": {...}}')
    unknown = set(body) - {"base_version", "changes"}
    if unknown:
        allowed = "unknown field (allowed: base_version, changes)"
        raise InvalidField(str(sorted(unknown)[0]), allowed)
    base = body.get("base_version")
    if isinstance(base, bool) or not isinstance(base, int) or base < 0:
        raise InvalidField("base_version", "must be the whole version number (>= 0) last seen")
    if "changes" not in body:
        raise InvalidField("changes", "is required: the preferences this device changed")
    return base, body["changes"]


async def sync_profile(request: web.Request) -> web.Response:
    """A device's changes made on top of `base_version`: 409 with the current one if stale."""
    try:
        member = parse_member(request.match_info["member"])
        key = parse_key(request.headers.get(HEADER))
        mode = parse_mode(request.query.get("mode"))
        body = await read_json(request)
        base, changes = parse_sync(body)
        patch = parse_patch(changes)
    except InvalidField as exc:
        request.app[REPLICATION_METRICS].sync("invalid")
        return bad_request(exc)
    if mutants.active("partial-sync-tv") and request.headers.get(DEVICE_TYPE_HEADER) == "tv":
        patch = first_field_only(patch)
    return await _write(request, body, WriteRequest(member, patch, key, mode, base), "sync")


def first_field_only(patch: PreferencesPatch) -> PreferencesPatch:
    """The partial-sync-tv regression: the first changed field applied, the rest dropped."""
    name, value = next(iter(patch.changes().items()))
    return PreferencesPatch(**{name: value})


async def post_play(request: web.Request) -> web.Response:
    """Append a play to the member's log on its home replica; never idempotent (plays.py)."""
    try:
        member = parse_member(request.match_info["member"])
        body = await read_json(request)
        title = parse_play(body)
    except InvalidField as exc:
        return bad_request(exc)
    writer = request.app[WRITER]
    home = writer.home_of(member)
    if home is not None:
        return await writer.forward(request, home, body, {}, idempotent=False)
    ctx = current()
    request_id = ctx.request_id if ctx is not None else new_request_id()
    try:
        play = await request.app[STORE].record_play(member, title, request_id)
    except StoreError as exc:
        return _unavailable(exc)
    request.app[PLAY_METRICS].appended(play)
    return web.json_response(play.to_json(), status=201)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/profiles/{member}", get_profile)
    app.router.add_patch("/profiles/{member}", patch_profile)
    app.router.add_post("/profiles/{member}/sync", sync_profile)
    app.router.add_post("/profiles/{member}/plays", post_play)
