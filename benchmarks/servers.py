"""Small servers the benchmarks run beside the real services, one per process.

``python -m benchmarks.servers KIND PORT [TARGET]``:

- ``upstream``: a bare aiohttp app answering ``GET /titles/1``;
- ``bare-hop``: ``GET /hop`` calls TARGET/titles/1 with a plain ClientSession;
- ``kit-hop``: the same hop built on the kit (create_service_app, a Dependency);
- ``gateway``: a kit app forwarding ``GET /recommendations/{member}`` to TARGET
  (a member's first hop, as an API gateway would be);
- ``dead-leaf``: answers 503 to everything and counts what reached it,
  split into requests carrying a member's ``X-Request-Id`` and the rest;
- ``hang-leaf``: counts the same way, and never answers (a request is held
  until its caller gives up and disconnects).

Every server runs with the kit's `SERVER_OPTIONS` (a handler whose caller
disconnected is cancelled), as the services do.

Every server but the upstream has ``GET /_bench/gc`` (collections per
generation since start, counted with gc.callbacks) or ``GET /_bench/count``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
from collections import Counter
from typing import Any

import aiohttp
from aiohttp import web

from services.common import DEPENDENCIES, DependencySettings, ServiceSettings, create_service_app
from services.common.context import REQUEST_ID_HEADER
from services.common.server import SERVER_OPTIONS

TITLE = {"id": 1, "name": "A title", "genres": ["drama"], "maturity_rating": "all"}
SESSION = web.AppKey("session", aiohttp.ClientSession)
TARGET = web.AppKey("target", str)
GC_COUNTS = web.AppKey("gc_counts", Counter[int])
LEAF_COUNTS = web.AppKey("leaf_counts", Counter[str])


def count_collections(app: web.Application) -> None:
    counts: Counter[int] = Counter()

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            counts[info["generation"]] += 1

    gc.callbacks.append(on_gc)
    app[GC_COUNTS] = counts


async def gc_report(request: web.Request) -> web.Response:
    counts = request.app[GC_COUNTS]
    return web.json_response({"collections": [counts[g] for g in range(3)]})


async def title(request: web.Request) -> web.Response:
    return web.json_response(TITLE)


def upstream_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/titles/1", title)
    return app


async def bare_hop(request: web.Request) -> web.Response:
    async with request.app[SESSION].get(request.app[TARGET] + "/titles/1") as resp:
        return web.json_response(await resp.json())


async def _session_ctx(app: web.Application) -> Any:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        app[SESSION] = session
        yield


def bare_hop_app(target: str) -> web.Application:
    app = web.Application()
    app[TARGET] = target
    app.cleanup_ctx.append(_session_ctx)
    app.router.add_get("/hop", bare_hop)
    return app


async def kit_hop(request: web.Request) -> web.Response:
    resp = await request.app[DEPENDENCIES]["upstream"].get("/titles/1")
    return web.json_response(resp.data)


def kit_hop_app(port: int, target: str) -> web.Application:
    app = create_service_app(
        ServiceSettings("hop", port), dependencies=[DependencySettings("upstream", target)]
    )
    app.router.add_get("/hop", kit_hop)
    return app


async def forward(request: web.Request) -> web.Response:
    member = request.match_info["member"]
    resp = await request.app[DEPENDENCIES]["recommendations"].get(f"/recommendations/{member}")
    return web.json_response(resp.data, status=resp.status)


def gateway_app(port: int, target: str) -> web.Application:
    dependency = DependencySettings.from_env("recommendations", target)
    app = create_service_app(ServiceSettings("gateway", port), dependencies=[dependency])
    app.router.add_get("/recommendations/{member}", forward)
    return app


async def dead(request: web.Request) -> web.Response:
    kind = "member" if REQUEST_ID_HEADER in request.headers else "background"
    request.app[LEAF_COUNTS][kind] += 1
    return web.json_response({"error": "dead leaf"}, status=503)


async def leaf_report(request: web.Request) -> web.Response:
    counts = request.app[LEAF_COUNTS]
    return web.json_response(dict(counts))


async def hang(request: web.Request) -> web.Response:
    kind = "member" if REQUEST_ID_HEADER in request.headers else "background"
    request.app[LEAF_COUNTS][kind] += 1
    await asyncio.Event().wait()  # until the caller disconnects (handler cancellation)
    raise AssertionError("unreachable: nothing sets the event")


def leaf_app(handler: Any) -> web.Application:
    app = web.Application()
    counts: Counter[str] = Counter()
    app[LEAF_COUNTS] = counts
    app.router.add_get("/_bench/count", leaf_report)
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


def build(kind: str, port: int, target: str) -> web.Application:
    if kind == "upstream":
        return upstream_app()
    if kind == "dead-leaf":
        return leaf_app(dead)
    if kind == "hang-leaf":
        return leaf_app(hang)
    if kind == "bare-hop":
        app = bare_hop_app(target)
    elif kind == "kit-hop":
        app = kit_hop_app(port, target)
    else:
        app = gateway_app(port, target)
    count_collections(app)
    app.router.add_get("/_bench/gc", gc_report)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="a benchmark's helper server")
    kinds = ["upstream", "bare-hop", "kit-hop", "gateway", "dead-leaf", "hang-leaf"]
    parser.add_argument("kind", choices=kinds)
    parser.add_argument("port", type=int)
    parser.add_argument("target", nargs="?", default="")
    args = parser.parse_args()
    app = build(args.kind, args.port, args.target)
    web.run_app(
        app, host="127.0.0.1", port=args.port, print=None, access_log=None, **SERVER_OPTIONS
    )


if __name__ == "__main__":
    main()
