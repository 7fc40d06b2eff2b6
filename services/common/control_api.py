"""The fault control API: ``/_chaos/faults``, behind a bearer token.

With no token configured the routes answer 404 ("control API is off") and
the service says so in its log at start. Errors: 400 naming the field (or
query parameter) for a bad rule or query, 401 without the right token, 404
for an unknown rule id, 429 (with ``Retry-After``) when the service already
holds its cap of active rules.
"""

from __future__ import annotations

import hmac
import logging
import math
from collections.abc import Awaitable, Callable

from aiohttp import web

from .body import bad_request, read_json
from .errors import InvalidFaultRule, InvalidField, TooManyFaultRules
from .faults import parse_rule, parse_tag
from .keys import FAULTS, SETTINGS
from .middleware import INFRA_PREFIXES, json_error

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEPENDENCY_NAMES = web.AppKey("dependency_names", tuple[str, ...])


def _authorised(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        token = request.app[SETTINGS].control_token
        if not token:
            return json_error(404, "control API is off: no CHAOSBED_CONTROL_TOKEN configured")
        # a proxy that authenticates with Authorization itself (the Kubernetes API
        # server's Service proxy, which removes it) passes the caller's on as this
        headers = request.headers
        given = headers.get("X-Forwarded-Authorization") or headers.get("Authorization") or ""
        scheme, _, value = given.partition(" ")
        # surrogatepass: a header with bytes that are not UTF-8 is a wrong token, not a 500
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode("utf-8", "surrogatepass"), token.encode("utf-8", "surrogatepass")
        ):
            resp = json_error(401, "missing or wrong bearer token")
            resp.headers["WWW-Authenticate"] = 'Bearer realm="chaosbed"'
            return resp
        return await handler(request)

    return guarded


def _service_routes(app: web.Application) -> list[str]:
    return sorted(
        {
            r.resource.canonical
            for r in app.router.routes()
            if r.resource is not None
            and not r.resource.canonical.startswith(INFRA_PREFIXES)  # never faulted
        }
    )


def _tag_query(request: web.Request) -> str | None:
    """The optional ``?tag=`` filter; any other query parameter is refused."""
    unknown = sorted(set(request.query) - {"tag"})
    if unknown:
        raise InvalidFaultRule(unknown[0], "unknown query parameter (allowed: tag)")
    tags = request.query.getall("tag", [])
    if len(tags) > 1:
        raise InvalidFaultRule("tag", "give at most one tag")
    return parse_tag(tags[0]) if tags else None


async def list_faults(request: web.Request) -> web.Response:
    try:
        tag = _tag_query(request)
    except InvalidFaultRule as exc:
        return json_error(400, str(exc), field=exc.field)
    faults = request.app[FAULTS]
    rules = faults.active(tag)
    now, wall_now = faults.clock(), faults.wall_clock()
    return web.json_response(
        {
            "faults": [r.to_json(now, wall_now, faults.matched(r.id)) for r in rules],
            "max_rules": faults.max_rules,
            "hung": faults.hung,
            "max_hung": faults.max_hung,
        }
    )


async def add_fault(request: web.Request) -> web.Response:
    faults = request.app[FAULTS]
    deps = request.app.get(DEPENDENCY_NAMES, ())
    try:
        body = await read_json(request)
        rule = parse_rule(
            body,
            service=request.app[SETTINGS].name,
            dependencies=deps,
            routes=_service_routes(request.app),
            now=faults.clock(),
        )
    except InvalidField as exc:  # an unreadable body, or an InvalidFaultRule
        return bad_request(exc)
    try:
        faults.add(rule)
    except TooManyFaultRules as exc:
        resp = json_error(429, str(exc), limit=exc.limit)
        resp.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
        return resp
    log.warning("fault injected: %s", rule)
    return web.json_response(rule.to_json(faults.clock(), faults.wall_clock()), status=201)


async def delete_fault(request: web.Request) -> web.Response:
    rule_id = request.match_info["rule_id"]
    if not request.app[FAULTS].remove(rule_id):
        return json_error(404, f"no active fault with id {rule_id!r}")
    log.warning("fault removed: %s", rule_id)
    return web.json_response({"removed": rule_id})


async def delete_all(request: web.Request) -> web.Response:
    try:
        tag = _tag_query(request)
    except InvalidFaultRule as exc:
        return json_error(400, str(exc), field=exc.field)
    removed = request.app[FAULTS].clear(tag)
    log.warning("faults halted: %d removed (tag=%s)", removed, tag)
    return web.json_response({"removed": removed})


def setup_control_routes(app: web.Application, dependency_names: tuple[str, ...]) -> None:
    app[DEPENDENCY_NAMES] = dependency_names
    app.router.add_get("/_chaos/faults", _authorised(list_faults))
    app.router.add_post("/_chaos/faults", _authorised(add_fault))
    app.router.add_delete("/_chaos/faults", _authorised(delete_all))
    app.router.add_delete("/_chaos/faults/{rule_id}", _authorised(delete_fault))
