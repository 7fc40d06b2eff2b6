"""The services' network namespaces, reached through a helper container: the
docker runtime's `NetworkLayer` (chaos/runtime/network.py).

The services run with `cap_drop: ALL` and have no iptables or tc. The
network faults run those tools from `chaosbed/net-helper` (built offline by
compose/build-images.sh), one short-lived container per command batch:

    docker run --rm --network container:<service container> --cap-add NET_ADMIN \
        --label org.chaosbed.net-helper=<run id> chaosbed/net-helper:bookworm <batch>

It shares the service's network namespace only (not its processes or files)
and is removed when the batch ends; `chaosbed cleanup` removes any helper a
killed runner left (they all carry the label). The SDK is synchronous: every
call runs in a thread.

A fault's TTL is a helper too (`expire`): started detached beside the
inject, it sleeps the TTL and then runs the fault's rollback script, so rules
end by themselves when the runner or monkey that added them was killed
outright. The engine runs it, not the runner, so it outlives the runner's
process and container alike. A rollback removes it first. `arm_unpause` is
the same for a paused container: a helper with the engine's socket that
unpauses it after the TTL. Both carry `org.chaosbed.net-helper.expires` (the
wall-clock second they act), so cleanup knows a live one from a stale one.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from chaos.runtime.errors import DockerUnavailable, InstanceActionFailed
from chaos.runtime.network import Namespace

from .container_status import ContainerInfo
from .engine import Engine

__all__ = ["EXPIRES_LABEL", "HELPER_IMAGE", "HELPER_LABEL", "Namespaces", "engine_socket"]

T = TypeVar("T")
HELPER_IMAGE = "chaosbed/net-helper:bookworm"
HELPER_LABEL = "org.chaosbed.net-helper"
#: The stack (compose project) a helper works for: cleanup removes its own stack's only.
HELPER_PROJECT_LABEL = "org.chaosbed.net-helper.project"
HELPER_TIMEOUT_S = 60.0
#: When a TTL helper acts (seconds since the epoch): it is stale only well after that.
EXPIRES_LABEL = "org.chaosbed.net-helper.expires"
DOCKER_SOCKET = "/var/run/docker.sock"
#: A TTL helper that unpauses containers through the engine's API (argv: the
#: engine's socket, seconds, then container names); python3's standard library
#: only (the helper image's).
UNPAUSE = """
import http.client, socket, sys, time
class Engine(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
time.sleep(float(sys.argv[2]))
for name in sys.argv[3:]:
    engine = Engine("localhost")
    engine.request("POST", "/containers/" + name + "/unpause")
    print(name, engine.getresponse().status, flush=True)  # 204 resumed, 409 was not paused
"""


def engine_socket(environ: Mapping[str, str] | None = None) -> str | None:
    """The engine's unix socket, for a helper that talks to the engine: DOCKER_HOST's
    when it names one, the default without DOCKER_HOST, None for an engine reached
    otherwise (tcp, ssh: a helper on that engine could not know its socket)."""
    host = (os.environ if environ is None else environ).get("DOCKER_HOST", "")
    if not host:
        return DOCKER_SOCKET
    return host.removeprefix("unix://") if host.startswith("unix://") else None


def namespace_of(info: ContainerInfo) -> Namespace:
    attrs = info.attrs
    networks = attrs.get("NetworkSettings", {}).get("Networks", {}) or {}
    addresses = tuple(
        sorted(str(n["IPAddress"]) for n in networks.values() if n and n.get("IPAddress"))
    )
    port = None
    for entry in attrs.get("Config", {}).get("Env", []) or []:
        name, _, value = str(entry).partition("=")
        if name == "CHAOSBED_PORT" and value.isdigit():
            port = int(value)
    return Namespace(info.service, info.name, info.id, addresses, port)


class Namespaces:
    def __init__(
        self,
        connect: Callable[[], Engine],
        project: str,
        services: Sequence[str],
        scraper: str = "prometheus",
    ) -> None:
        """`scraper`: the compose service of the stack's Prometheus."""
        self._connect = connect
        self.project = project
        self.services = tuple(services)
        self.scraper = scraper

    async def all(self) -> list[Namespace]:
        """Every running container of the project (services and Prometheus)."""

        def read(engine: Engine) -> list[Namespace]:
            return [
                namespace_of(info)
                for info in engine.containers(self.project)
                if info.attrs.get("State", {}).get("Running")
            ]

        return await self._in_thread(read)

    async def run(self, namespace: Namespace, argv: Sequence[str], run_id: str) -> str:
        """Run `argv` in the namespace; its output, or InstanceActionFailed."""

        def work(engine: Engine) -> str:
            import docker.errors

            client: Any = engine.client
            try:
                output = client.containers.run(
                    HELPER_IMAGE,
                    list(argv),
                    network_mode=f"container:{namespace.container_id}",
                    cap_add=["NET_ADMIN"],
                    labels={HELPER_LABEL: run_id, HELPER_PROJECT_LABEL: self.project},
                    remove=True,
                    stdout=True,
                    stderr=True,
                )
            except docker.errors.ContainerError as exc:
                detail = exc.stderr.decode(errors="replace") if exc.stderr else str(exc)
                raise InstanceActionFailed(namespace.container, "net-helper", detail) from exc
            except docker.errors.ImageNotFound as exc:
                raise DockerUnavailable(
                    f"{HELPER_IMAGE} is not built: bash compose/build-images.sh"
                ) from exc
            except docker.errors.APIError as exc:
                raise InstanceActionFailed(namespace.container, "net-helper", str(exc)) from exc
            return bytes(output).decode(errors="replace")

        async with asyncio.timeout(HELPER_TIMEOUT_S):
            return await self._in_thread(work)

    async def expire(
        self, namespace: Namespace, script: str, after_s: float, run_id: str, name: str
    ) -> None:
        """Start the helper `name`, detached, that runs `script` in the namespace
        `after_s` seconds from now (a rollback removes it by `remove_helper`)."""
        command = ["sh", "-c", f"sleep {after_s:.3f}\n{script}"]
        await self._detached(command, after_s, run_id, name, network=namespace.container_id)

    async def arm_unpause(
        self, containers: Sequence[str], after_s: float, run_id: str
    ) -> str | None:
        """Start a helper, detached, that unpauses `containers` `after_s` seconds from
        now (those still paused); its name. None when the engine is not reached
        through a unix socket (a helper could not reach it)."""
        socket = engine_socket()
        if socket is None:
            return None
        name = f"chaosbed-unpause-{uuid.uuid4().hex[:12]}"
        command = ["python3", "-c", UNPAUSE, socket, f"{after_s:.3f}", *containers]
        await self._detached(command, after_s, run_id, name, socket=socket)
        return name

    async def _detached(
        self,
        command: Sequence[str],
        after_s: float,
        run_id: str,
        name: str,
        *,
        network: str | None = None,
        socket: str | None = None,
    ) -> None:
        expires = f"{time.time() + after_s:.0f}"

        def work(engine: Engine) -> None:
            import docker.errors
            import docker.types

            labels = {HELPER_LABEL: run_id, HELPER_PROJECT_LABEL: self.project,
                      EXPIRES_LABEL: expires}  # fmt: skip
            options: dict[str, Any] = (
                {"network_mode": f"container:{network}", "cap_add": ["NET_ADMIN"]}
                if network is not None
                else {  # a bind mount, which fails where the socket is not (no empty dir made)
                    "network_mode": "none",
                    "mounts": [docker.types.Mount(socket, socket, type="bind")],
                }
            )
            try:
                engine.client.containers.run(
                    HELPER_IMAGE, list(command), name=name, detach=True, auto_remove=True,
                    labels=labels, **options,
                )  # fmt: skip
            except docker.errors.ImageNotFound as exc:
                raise DockerUnavailable(
                    f"{HELPER_IMAGE} is not built: bash compose/build-images.sh"
                ) from exc
            except docker.errors.APIError as exc:
                raise InstanceActionFailed(network or "engine", "ttl helper", str(exc)) from exc

        async with asyncio.timeout(HELPER_TIMEOUT_S):
            return await self._in_thread(work)

    async def helpers(self, *, stale_only: bool = False) -> list[str]:
        """This stack's helper containers that are still there (another stack's are
        not ours to remove). `stale_only`: those a killed runner left (older than any
        batch may run), not a live run's."""

        def read(engine: Engine) -> list[str]:
            mine = [HELPER_LABEL, f"{HELPER_PROJECT_LABEL}={self.project}"]
            found = engine.client.containers.list(  # sparse: no inspect racing their removal
                all=True, filters={"label": mine}, sparse=True
            )
            return sorted(
                str(c.attrs.get("Names", [c.id])[0]).lstrip("/")
                for c in found
                if not stale_only or _stale(c.attrs, time.time())
            )

        return await self._in_thread(read)

    async def remove_helper(self, name: str) -> None:
        """Remove a helper and return once it is gone; one already gone (a TTL helper
        that acted) is no error."""

        def remove(engine: Engine) -> None:
            import docker.errors

            try:
                engine.client.containers.get(name).remove(force=True)
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as exc:  # the engine's auto-remove got there first
                if "already in progress" not in str(exc):
                    raise
            deadline = time.monotonic() + HELPER_TIMEOUT_S
            while time.monotonic() < deadline:  # gone from `docker ps -a`, for cleanup's sake
                try:
                    engine.client.containers.get(name)
                except docker.errors.NotFound:
                    return
                time.sleep(0.1)
            raise InstanceActionFailed(name, "remove", "still there a minute later")

        await self._in_thread(remove)

    async def _in_thread(self, work: Callable[[Engine], T]) -> T:
        def run() -> T:
            engine = self._connect()
            try:
                return work(engine)
            finally:
                engine.close()

        return await asyncio.to_thread(run)


def _stale(listed: Mapping[str, Any], now: float) -> bool:
    """From `docker ps` data: created longer ago than any batch may run (a younger one,
    even exited, may be a live run's, about to be removed by its runner); a TTL helper
    only that long after it was due to act."""
    labels = listed.get("Labels") or {}
    try:
        since = float(labels[EXPIRES_LABEL])
    except (KeyError, TypeError, ValueError):
        since = float(listed.get("Created", 0) or 0)
    return now - since > 2 * HELPER_TIMEOUT_S
