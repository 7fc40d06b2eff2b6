"""The replication API between replicas (loopback only, like every chaosbed port).

POST /replication/apply     {"entries": [...]}: apply each if newer; answers after commit
GET  /replication/versions  {"versions": {member: version}} of every member held
POST /replication/entries   {"members": [...]}: the current version of each
GET  /replication/state     every member's current version, whole (for checkers)
"""

from __future__ import annotations

from aiohttp import web

from services.common import json_error, read_json
from services.profiles.errors import StoreError
from services.profiles.handlers import REPLICATOR, STORE
from services.profiles.replication import entries_json, read_entries


async def apply(request: web.Request) -> web.Response:
    try:
        entries = read_entries(await read_json(request))
    except ValueError as exc:
        return json_error(400, str(exc), field="entries")
    try:
        applied = await request.app[REPLICATOR].apply(entries, "push")
    except StoreError as exc:
        return json_error(503, f"profile store unavailable: {exc}")
    return web.json_response({"applied": len(applied), "received": len(entries)})


async def versions(request: web.Request) -> web.Response:
    try:
        return web.json_response({"versions": await request.app[STORE].versions()})
    except StoreError as exc:
        return json_error(503, f"profile store unavailable: {exc}")


async def entries(request: web.Request) -> web.Response:
    try:
        body = await read_json(request)
    except ValueError as exc:
        return json_error(400, str(exc), field="body")
    members = body.get("members") if isinstance(body, dict) else None
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        return json_error(400, "members: must be a list of member ids", field="members")
    try:
        return web.json_response(entries_json(await request.app[STORE].entries(members)))
    except StoreError as exc:
        return json_error(503, f"profile store unavailable: {exc}")


async def state(request: web.Request) -> web.Response:
    try:
        return web.json_response(entries_json(await request.app[STORE].entries()))
    except StoreError as exc:
        return json_error(503, f"profile store unavailable: {exc}")


def setup_replication_routes(app: web.Application) -> None:
    app.router.add_post("/replication/apply", apply)
    app.router.add_get("/replication/versions", versions)
    app.router.add_post("/replication/entries", entries)
    app.router.add_get("/replication/state", state)
