"""Helpers for the container tests: the compose project under test, Prometheus, traffic."""

from __future__ import annotations

import asyncio
import fcntl
import http.client
import json
import os
import random
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from services.topology import PORTS, host_port_variable
from tests.worker import worker_name, worker_ports

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "compose" / "docker-compose.yml"
BUILD_SCRIPT = REPO / "compose" / "build-images.sh"
RULES_DIR = REPO / "compose" / "prometheus" / "rules"
DASHBOARDS_DIR = REPO / "dashboards" / "json"
PROJECT = worker_name("chaosbed-test")
TOKEN = "chaosbed-test-token"
IMAGES = ("chaosbed/service:latest", "chaosbed/prometheus:latest")
#: The services and the ports they listen on inside their containers.
SERVICES = dict(PORTS)
#: One dashboard per service, the profiles replicas sharing the profiles one.
DASHBOARDS = ("catalog", "recommendations", "playback", "profiles", "overview")
#: Where the test stack publishes them on 127.0.0.1: a block of its own, so
#: the container tests never race another stack (28081.. alone, the block 70
#: above the worker's base under xdist).
LAYOUT = worker_ports(70, 28081)
HOST_PORTS = dict(LAYOUT.services)
PROMETHEUS_PORT = LAYOUT.prometheus
PROMETHEUS_URL = f"http://127.0.0.1:{PROMETHEUS_PORT}"
# Offline there is no Grafana image: it runs only in the `grafana` profile.
CONTAINERS = (*SERVICES, "prometheus")


@dataclass(frozen=True)
class Compose:
    project: str = PROJECT
    token: str = TOKEN

    def env(self) -> dict[str, str]:
        ports = {host_port_variable(name): str(p) for name, p in HOST_PORTS.items()}
        ports["CHAOSBED_PROMETHEUS_HOST_PORT"] = str(PROMETHEUS_PORT)
        return {**os.environ, **ports, "CHAOSBED_CONTROL_TOKEN": self.token}

    def run(self, *args: str, timeout_s: float = 300, check: bool = True) -> str:
        command = ["docker", "compose", "-p", self.project, "-f", str(COMPOSE_FILE), *args]
        done = subprocess.run(
            command,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"`{' '.join(command[1:])}` failed (exit {done.returncode}):\n{done.stdout}"
            )
        return done.stdout

    def logs(self, tail: int = 40) -> str:
        return self.run("logs", "--no-color", "--tail", str(tail), check=False, timeout_s=60)


_BUILT: list[list[str]] = []  # build-images.sh ran in this test session, with these arguments


def require_docker_images() -> None:
    """Fail the test, saying how to fix it, when no Docker engine answers; then
    make sure the images are built (`ensure_images`)."""
    import docker
    import pytest

    try:
        client = docker.from_env(version="auto")
        client.ping()
    except Exception as error:
        pytest.fail(
            f"Docker is unreachable ({error}): run `bash compose/install-docker.sh` as root",
            pytrace=False,
        )
    try:
        ensure_images(client)
    finally:
        client.close()


#: Held while build-images.sh runs, so that concurrent test workers build in turn.
IMAGE_BUILD_LOCK = Path(tempfile.gettempdir()) / "chaosbed-build-images.lock"


def docker_client_or_fail() -> Any:
    """A docker SDK client of this machine's engine; the test fails, saying how to start
    one, when it is unreachable."""
    import docker
    import pytest

    try:
        client = docker.from_env(version="auto", timeout=30)
        client.ping()
    except Exception as error:  # any failure to talk to the engine is the same failure here
        pytest.fail(
            f"Docker is unreachable ({type(error).__name__}: {error}). The container tests "
            "need a Docker engine: run `bash compose/install-docker.sh` as root.",
            pytrace=False,
        )
    return client


def ensure_images(
    docker_client: Any, *, cluster: bool = False, images: tuple[str, ...] = IMAGES
) -> tuple[str, ...]:
    """Build the images with build-images.sh (warm: seconds), or fail saying how to;
    `cluster`: with --cluster, the cluster's node image too.

    Reuses whatever is there instead when CHAOSBED_REUSE_IMAGES=1 or when not
    root (the offline build needs root for debootstrap).
    """
    import docker.errors
    import pytest

    reuse = os.environ.get("CHAOSBED_REUSE_IMAGES") == "1" or os.geteuid() != 0
    arguments = ["--cluster"] if cluster else []
    if not reuse and arguments not in _BUILT:
        # one build at a time on this machine: pytest-xdist workers each ask
        with open(IMAGE_BUILD_LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            done = subprocess.run(
                ["bash", str(BUILD_SCRIPT), *arguments],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=3600,
                check=False,
            )
        if done.returncode != 0:
            pytest.fail(f"compose/build-images.sh failed:\n{done.stderr[-4000:]}", pytrace=False)
        _BUILT.append(arguments)
    missing = []
    for image in images:
        try:
            docker_client.images.get(image)
        except docker.errors.ImageNotFound:
            missing.append(image)
    if missing:
        how = "bash compose/build-images.sh" + (" --cluster" if cluster else "")
        pytest.fail(f"images {missing} are missing: build them with `{how}`", pytrace=False)
    return images


def url(service: str) -> str:
    """Base URL of a service of the test stack, as published on 127.0.0.1."""
    return f"http://127.0.0.1:{HOST_PORTS[service]}"


def http_json(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 5.0,
) -> tuple[int, Any]:
    """One request to 127.0.0.1 (no proxies); (status, parsed JSON or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout_s) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        return 0, f"{type(error).__name__}: {error}"  # no answer: 0, as curl says 000
    try:
        return status, json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return status, raw.decode(errors="replace")


def wait_for(predicate: Any, timeout_s: float, interval_s: float = 1.0) -> Any:
    """Poll `predicate` until it returns something truthy; return it, or the last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval_s)


def promql(expr: str) -> dict[str, Any]:
    """Ask Prometheus an instant query; the decoded answer (status, data or error)."""
    query = urllib.parse.urlencode({"query": expr})
    status, answer = http_json("GET", f"{PROMETHEUS_URL}/api/v1/query?{query}")
    if not isinstance(answer, dict):
        return {"status": "error", "error": f"HTTP {status}: {answer!r}"}
    return answer


def recording_rules() -> Iterator[tuple[str, str]]:
    """(record, expr) of every recording rule in compose/prometheus/rules."""
    for path in sorted(RULES_DIR.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    yield rule["record"], " ".join(rule["expr"].split())


def dashboard_queries() -> Iterator[tuple[str, str, str]]:
    """(dashboard file, panel title, expr) of every panel query of every dashboard."""
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                yield path.name, panel["title"], target["expr"]


# -- traffic ---------------------------------------------------------------


async def _journeys(session: aiohttp.ClientSession, rng: random.Random, member: str) -> None:
    cohort = rng.choice(["control", "experiment"])
    headers = {"X-Chaos-Cohort": cohort}
    title = rng.randint(1, 500)
    catalog, profiles = url("catalog"), url("profiles")
    calls: list[tuple[str, str, Any, dict[str, str]]] = [
        ("GET", f"{catalog}/titles/{title}", None, headers),
        ("GET", f"{catalog}/titles?genre=drama&limit=10", None, headers),
        ("GET", f"{catalog}/popular?region=US&limit=10", None, headers),
        ("GET", f"{profiles}/profiles/{member}", None, headers),
        ("GET", f"{url('recommendations')}/recommendations/{member}", None, headers),
        ("POST", f"{url('playback')}/playback/start", {"member": member, "title": title}, headers),
    ]
    if rng.random() < 0.2:
        patch_headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        body = {"subtitles": rng.random() < 0.5}
        calls.append(("PATCH", f"{profiles}/profiles/{member}", body, patch_headers))
    for method, target, body, hdrs in calls:
        try:
            async with session.request(method, target, json=body, headers=hdrs) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            pass  # a service being restarted by a test: members see errors too


async def _drive(stop: threading.Event, deadline: float, concurrency: int, seed: int) -> int:
    rng = random.Random(seed)
    timeout = aiohttp.ClientTimeout(total=10)
    rounds = 0
    async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as session:

        async def worker(index: int) -> None:
            nonlocal rounds
            while not stop.is_set() and time.monotonic() < deadline:
                await _journeys(session, rng, f"m-{rng.randrange(200)}")
                rounds += 1
                await asyncio.sleep(0.05)

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return rounds


class Traffic:
    """Member journeys through all four services on 127.0.0.1, in a background thread.

    Bounded: it stops when asked, or after `max_s` seconds whatever happens.
    """

    def __init__(self, concurrency: int = 4, max_s: float = 300.0, seed: int = 7) -> None:
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self.rounds = 0
        deadline = time.monotonic() + max_s

        def run() -> None:
            try:
                self.rounds = asyncio.run(_drive(self._stop, deadline, concurrency, seed))
            except BaseException as error:  # reported by stop()
                self._error = error

        self._thread = threading.Thread(target=run, name="traffic", daemon=True)
        self._thread.start()

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=30)
        if self._error is not None:
            raise AssertionError(f"the traffic driver failed: {self._error!r}") from self._error
        return self.rounds
