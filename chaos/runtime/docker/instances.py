"""Process-layer faults on the compose project's containers, through the docker SDK.

An instance is a container; its id is the container name (chaosbed-catalog-1).
The SDK is synchronous: every call runs in a thread (asyncio.to_thread).

    kill      the main process SIGKILLed from the host: a crash, which the
              restart policy (`restart: unless-stopped`) undoes (engine.crash)
    hold      `docker kill`: Docker keeps a killed container stopped
    stop      `docker stop` (SIGTERM, SIGKILL after the grace)
    start     `docker start`
    pause     `docker pause` (cgroup freezer); unpause: `docker unpause`
    restart   `docker restart` (stop, then start)

A container's release (what a deploy set, `DockerRuntime.deploy`) is read from its
environment: those of the recorded release's variables it holds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from chaos.runtime.errors import InstanceActionFailed, UnknownService
from chaos.runtime.interface import InstanceState

from .container_status import ContainerInfo, instance_state
from .engine import Engine

__all__ = ["ContainerInstances"]

T = TypeVar("T")
POLL_S = 0.1


class ContainerInstances:
    def __init__(
        self,
        connect: Callable[[], Engine],
        project: str,
        services: Sequence[str],
        stop_grace_s: float,
        deployed: Callable[[str], Mapping[str, str]] = lambda service: {},
    ) -> None:
        self.deployed = deployed
        self.connect = connect
        self.project = project
        self.services = tuple(services)
        self.stop_grace_s = stop_grace_s

    async def snapshot(self, service: str | None = None) -> list[InstanceState]:
        if service is not None and service not in self.services:
            raise UnknownService(service, self.services)

        def read(engine: Engine) -> list[InstanceState]:
            order = {name: index for index, name in enumerate(self.services)}
            found = [
                instance_state(info, self.deployed(info.service))
                for info in engine.containers(self.project)
                if info.service in order and service in (None, info.service)
            ]
            return sorted(found, key=lambda i: (order[i.service], i.instance))

        return await self._in_thread(read)

    async def kill(self, instance: str) -> InstanceState:
        return await self._act(instance, "kill", lambda e, c: e.crash(c), running=True)

    async def hold(self, instance: str) -> InstanceState:
        def kill_and_wait(engine: Engine, info: ContainerInfo) -> None:
            engine.kill(info.id)
            deadline = time.monotonic() + self.stop_grace_s
            while instance_state(engine.inspect(info.id)).state != "stopped":
                if time.monotonic() >= deadline:
                    raise InstanceActionFailed(info.name, "hold", "still running after SIGKILL")
                time.sleep(POLL_S)

        return await self._act(instance, "hold", kill_and_wait, running=False)

    async def stop(self, instance: str) -> InstanceState:
        grace = self.stop_grace_s
        return await self._act(instance, "stop", lambda e, c: e.stop(c.id, grace), running=False)

    async def start(self, instance: str) -> InstanceState:
        return await self._act(instance, "start", lambda e, c: e.start(c.id), running=False)

    async def pause(self, instance: str) -> InstanceState:
        return await self._act(instance, "pause", lambda e, c: e.pause(c.id), running=True)

    async def unpause(self, instance: str) -> InstanceState:
        def unpause(engine: Engine, info: ContainerInfo) -> None:
            if instance_state(info).state == "paused":
                engine.unpause(info.id)

        return await self._act(instance, "unpause", unpause, running=False)

    async def restart(self, instance: str) -> InstanceState:
        grace = self.stop_grace_s
        return await self._act(
            instance, "restart", lambda e, c: e.restart(c.id, grace), running=False
        )

    # -- helpers -----------------------------------------------------------------

    async def _act(
        self,
        instance: str,
        action: str,
        do: Callable[[Engine, ContainerInfo], None],
        *,
        running: bool,
    ) -> InstanceState:
        def act(engine: Engine) -> InstanceState:
            import docker.errors

            info = self._find(engine, instance)
            found = instance_state(info)
            if running and found.state != "running":
                raise InstanceActionFailed(instance, action, f"it is {found.detail}, not running")
            try:
                do(engine, info)
            except docker.errors.DockerException as error:
                raise InstanceActionFailed(instance, action, str(error)) from error
            return found

        return await self._in_thread(act)

    def _find(self, engine: Engine, instance: str) -> ContainerInfo:
        containers = [c for c in engine.containers(self.project) if c.service in self.services]
        for info in containers:
            if info.name == instance:
                return info
        raise UnknownService(instance, [c.name for c in containers], what="instance")

    async def _in_thread(self, work: Callable[[Engine], T]) -> T:
        def run() -> T:
            engine = self.connect()
            try:
                return work(engine)
            finally:
                engine.close()

        return await asyncio.to_thread(run)
