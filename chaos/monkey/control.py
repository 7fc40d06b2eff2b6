"""A running monkey's endpoint, and how `chaosbed monkey pause|resume|stop|status` finds it.

The monkey listens on loopback (its port is the stack's monkey port, or
--control-port) and writes where to <state_dir>/monkey/running.json, removed
when it stops:

- GET /metrics: its metrics (notify.py), for Prometheus;
- GET /status: its state (running, halted, paused), the actions it holds,
  why the guard halted it and its last reading;
- POST /pause, /resume, /stop, with the stack's control token (`Authorization:
  Bearer TOKEN`) and an optional `{"by": "who"}`: pause rolls back what it
  holds before answering; stop answers at once and the monkey rolls back and
  exits.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

from .notify import MonkeyMetrics
from .run import Monkey

__all__ = ["RUNNING_FILE", "ControlError", "call_running", "control_app", "read_running"]

RUNNING_FILE = Path("monkey") / "running.json"


def control_app(
    monkey: Monkey, metrics: MonkeyMetrics, token: str, stop: asyncio.Event,
    identity: dict[str, Any],
) -> web.Application:  # fmt: skip
    """The endpoint's aiohttp application."""

    def authorised(request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    async def who(request: web.Request) -> str:
        try:
            body = await request.json() if request.can_read_body else {}
        except (ValueError, UnicodeDecodeError):
            body = {}
        by = body.get("by") if isinstance(body, dict) else None
        return str(by)[:100] if by else f"{request.remote or 'someone'}"

    async def status(_: web.Request) -> web.Response:
        return web.json_response({**identity, **monkey.status()})

    def act(name: str, do: Callable[[str], Any]) -> Any:
        async def handler(request: web.Request) -> web.Response:
            if not authorised(request):
                return web.json_response({"error": "a valid control token is needed"}, status=401)
            changed = do(await who(request))
            if asyncio.iscoroutine(changed):
                changed = await changed
            return web.json_response({"done": name, "changed": bool(changed), **monkey.status()})

        return handler

    def stopping(by: str) -> bool:
        already = stop.is_set()
        stop.set()
        return not already

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get("/metrics", metrics_page(metrics))
    app.router.add_get("/status", status)
    app.router.add_post("/pause", act("pause", monkey.pause))
    app.router.add_post("/resume", act("resume", monkey.resume))
    app.router.add_post("/stop", act("stop", stopping))
    return app


def metrics_page(
    metrics: MonkeyMetrics,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler of ``GET /metrics``: the monkey's metrics, for Prometheus."""

    async def page(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(metrics.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})  # fmt: skip

    return page


def metrics_app(metrics: MonkeyMetrics) -> web.Application:
    """Only ``GET /metrics``: what the docker runtime's Prometheus scrapes from the
    host's address on the containers' network (the control stays on loopback)."""
    app = web.Application(client_max_size=1024)
    app.router.add_get("/metrics", metrics_page(metrics))
    return app


class ControlError(ChaosbedError):
    """No running monkey could be reached, or it refused: the message says which."""

    exit_code = ExitCode.INFRASTRUCTURE_FAILED


def write_running(state_dir: Path, record: dict[str, Any]) -> Path:
    path = state_dir / RUNNING_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(temporary, path)
    return path


def read_running(state_dir: Path) -> dict[str, Any]:
    path = state_dir / RUNNING_FILE
    try:
        record: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ControlError(f"no monkey runs on this stack ({path} is missing)") from None
    except ValueError as error:
        raise ControlError(f"{path} is not a monkey's record ({error}); remove it") from None
    return record


async def call_running(state_dir: Path, action: str, token: str | None, by: str,
                       *, timeout_s: float = 30.0) -> dict[str, Any]:  # fmt: skip
    """Do `action` (status, pause, resume, stop) on the stack's running monkey."""
    record = read_running(state_dir)
    url = f"{record['url'].rstrip('/')}/{action}"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with aiohttp.ClientSession() as session:
            request = (session.get(url, timeout=aiohttp.ClientTimeout(total=timeout_s))
                       if action == "status" else
                       session.post(url, json={"by": by}, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=timeout_s)))  # fmt: skip
            async with request as answer:
                body: Any = await answer.json(content_type=None)
                if answer.status != 200:
                    raise ControlError(f"the monkey at {url} refused: HTTP {answer.status} {body}")
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise ControlError(
            f"no monkey answers at {url} ({type(error).__name__}: {error}); if it died, its "
            f"faults expire by their TTL and `chaosbed cleanup` removes what is left"
        ) from error
    if not isinstance(body, dict):
        raise ControlError(f"the monkey at {url} answered {body!r}")
    return body
