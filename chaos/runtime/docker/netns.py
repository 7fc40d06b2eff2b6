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
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from chaos.runtime.errors import DockerUnavailable, InstanceActionFailed
from chaos.runtime.network import Namespace

from .container_status import ContainerInfo
from .engine import Engine

__all__ = ["HELPER_IMAGE", "HELPER_LABEL", "Namespaces"]

T = TypeVar("T")
HELPER_IMAGE = "chaosbed/net-helper:bookworm"
HELPER_LABEL = "org.chaosbed.net-helper"
#: The stack (compose project) a helper works for: cleanup removes its own stack's only.
HELPER_PROJECT_LABEL = "org.chaosbed.net-helper.project"
HELPER_TIMEOUT_S = 60.0


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
        def remove(engine: Engine) -> None:
            engine.client.containers.get(name).remove(force=True)

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
    even exited, may be a live run's, about to be removed by its runner)."""
    return now - float(listed.get("Created", 0) or 0) > 2 * HELPER_TIMEOUT_S
