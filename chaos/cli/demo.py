"""`chaosbed demo`: walk a member through the running stack, then degrade it gracefully.

It walks one member through the four journeys, injects an application-layer
fault on the edge recommendations -> profiles for a few seconds, shows the
homepage served degraded (default preferences), removes the fault and shows
the homepage whole again. Every fault it adds carries a short TTL and a tag,
and is removed in a ``finally``: an interrupted demo leaves nothing behind.
Where the services are and the control token come from the runtime.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode
from chaos.runtime.interface import Runtime
from services.topology import Metric

from .command import Command, Context
from .runtime_options import add_runtime_options, choice_of

__all__ = ["COMMAND", "DEMO_TAG", "DemoError", "run_demo"]

DEMO_TAG = "chaosbed-demo"


class DemoError(ChaosbedError):
    """The stack did not answer as the demo expected."""

    exit_code = ExitCode.INFRASTRUCTURE_FAILED


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


def _call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return Reply(resp.status, json.loads(resp.read() or b"null"))
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, json.loads(exc.read() or b"null"))
    except (urllib.error.URLError, OSError) as exc:
        raise DemoError(f"{method} {url} failed: {exc}; is the stack up (chaosbed up)?") from exc


def _homepage_line(reply: Reply) -> str:
    if reply.status != 200:
        return f"HTTP {reply.status}: {reply.body}"
    rows = reply.body.get("rows", [])
    names = ", ".join(str(row.get("name")) for row in rows[:3])
    degraded, fallback = reply.body.get("degraded"), reply.body.get("fallback")
    return f"{len(rows)} rows ({names}...), degraded={degraded}, fallback={fallback}"


def run_demo(runtime: Runtime, say: Callable[[str], None], member: str = "m-42") -> None:
    def url(service: str, path: str) -> str:
        return runtime.base_url(service) + path

    prefs = _call(
        "PATCH",
        url("profiles", f"/profiles/{member}"),
        {"favourite_genres": ["drama", "comedy"], "subtitles": True},
        {"Idempotency-Key": uuid.uuid4().hex},
    )
    say(f"== {member} saves preferences: HTTP {prefs.status} {json.dumps(prefs.body)[:160]}")
    say(f"== {member} opens the homepage")
    say("   " + _homepage_line(_call("GET", url("recommendations", f"/recommendations/{member}"))))
    popular = _call("GET", url("catalog", "/popular?region=US&limit=1"))
    if popular.status != 200 or not popular.body.get("titles"):
        raise DemoError(f"catalog /popular answered HTTP {popular.status}: {popular.body}")
    first = popular.body["titles"][0]
    title = int(first["id"])
    detail = _call("GET", url("catalog", f"/titles/{title}"))
    say(f"== title detail: {json.dumps(detail.body)[:160]}")
    play = _call("POST", url("playback", "/playback/start"), {"member": member, "title": title})
    say(f"== playback start: HTTP {play.status} {json.dumps(play.body)[:160]}")

    token = runtime.control_token()
    if token is None:
        say("== no control token (CHAOSBED_CONTROL_TOKEN or .chaosbed/token): skipping the fault")
        return
    auth = {"Authorization": f"Bearer {token}"}
    faults_url = url("recommendations", "/_chaos/faults")
    rule = {"kind": "error", "edge": "recommendations -> profiles", "status": 503}
    rule |= {"ttl_s": 30, "tag": DEMO_TAG}
    added = _call("POST", faults_url, rule, auth)
    if added.status != 201:
        raise DemoError(f"could not inject the demo fault: HTTP {added.status} {added.body}")
    try:
        say("== fault injected: recommendations -> profiles answers 503 (TTL 30s)")
        homepage = url("recommendations", f"/recommendations/{member}")
        say("   " + _homepage_line(_call("GET", homepage)))
    finally:
        _call("DELETE", f"{faults_url}?tag={DEMO_TAG}", None, auth)
    say("== fault removed; the homepage is whole again once the breaker closes")
    metrics = url("recommendations", "/metrics")
    say(f"   metrics: {metrics} ({Metric.FALLBACKS}, breaker state)")


def configure(parser: argparse.ArgumentParser) -> None:
    add_runtime_options(parser)


def run(args: argparse.Namespace, context: Context) -> int:
    run_demo(context.make_runtime(choice_of(args)), context.say)
    return ExitCode.OK


COMMAND = Command(
    name="demo",
    help="show a running stack working, then degrading gracefully under a fault",
    description="Needs a running stack (`chaosbed up`). Injects a short application-layer "
    "fault and always removes it.",
    configure=configure,
    run=run,
)
