"""The Docker Engine, through the docker SDK: reachability, images, a project's containers,
and the actions on one container that the process-layer faults use.

The SDK is synchronous: the docker runtime calls the actions through
`asyncio.to_thread`.
"""

from __future__ import annotations

import io
import os
import signal
import tarfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from chaos.runtime.errors import DockerUnavailable

from .container_status import ContainerInfo

__all__ = ["PROJECT_LABEL", "SERVICE_LABEL", "Engine", "connect", "hosts_entry"]

PROJECT_LABEL = "com.docker.compose.project"
FREEZE_TRIES = 5
SERVICE_LABEL = "com.docker.compose.service"


class Engine:
    """A connected docker SDK client, narrowed to what the docker runtime uses."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        """The SDK client itself (the network helper runs containers with it)."""
        return self._client

    def missing_images(self, images: tuple[str, ...]) -> list[str]:
        import docker.errors

        missing = []
        for image in images:
            try:
                self._client.images.get(image)
            except docker.errors.ImageNotFound:
                missing.append(image)
        return missing

    def containers(self, project: str) -> list[ContainerInfo]:
        """Every container of the project (all states), by name. One removed between
        the listing and its inspection (a deploy or compose recreating it) is left
        out, not an error."""
        containers = self._client.containers.list(
            all=True, filters={"label": f"{PROJECT_LABEL}={project}"}, ignore_removed=True
        )
        return sorted((_info(container) for container in containers), key=lambda c: c.name)

    def project_containers(self, project: str) -> dict[str, ContainerInfo]:
        """The project's containers by compose service name (all states)."""
        found: dict[str, ContainerInfo] = {}
        for info in self.containers(project):
            # Several containers of a service (during a recreate): prefer a running one.
            if info.service not in found or info.attrs.get("State", {}).get("Running"):
                found[info.service] = info
        return found

    def inspect(self, container_id: str) -> ContainerInfo:
        return _info(self._client.containers.get(container_id))

    def resolve_in(self, container_id: str, hostname: str) -> str | None:
        """The address `hostname` has in the container's /etc/hosts (where compose puts
        `extra_hosts`, `host-gateway` resolved by the engine), or None.

        Read through the archive API, so the image needs no shell or tools.
        """
        import docker.errors

        try:
            stream, _ = self._client.containers.get(container_id).get_archive("/etc/hosts")
            archive = b"".join(stream)
        except docker.errors.DockerException:
            return None
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            member = next((m for m in tar.getmembers() if m.isfile()), None)
            hosts = tar.extractfile(member) if member is not None else None
            text = hosts.read().decode("utf-8", errors="replace") if hosts is not None else ""
        return hosts_entry(text, hostname)

    # -- actions on one container (the process-layer faults) --------------------

    def crash(self, info: ContainerInfo) -> None:
        """SIGKILL the container's main process, as a crash would: the restart policy applies.

        `docker kill` would not do: Docker takes it for a deliberate stop and
        does not restart the container. The main process is signalled from this
        host through its pid (State.Pid), which works where chaosbed runs on the
        Docker host as root. Elsewhere (a remote engine, no permission) the
        container is restarted at once with no grace (`docker restart -t 0`:
        SIGKILL, then start), the same outcome without the policy's delay.
        """
        pid = int(info.attrs.get("State", {}).get("Pid", 0) or 0)
        if pid and _in_container(pid, info.id):
            try:
                os.kill(pid, signal.SIGKILL)
                return
            except (PermissionError, ProcessLookupError):
                pass
        self._client.containers.get(info.id).restart(timeout=0)

    def kill(self, container_id: str) -> None:
        """`docker kill`: SIGKILL, and Docker keeps it stopped."""
        self._client.containers.get(container_id).kill()

    def stop(self, container_id: str, grace_s: float) -> None:
        self._client.containers.get(container_id).stop(timeout=int(grace_s))

    def start(self, container_id: str) -> None:
        self._client.containers.get(container_id).start()

    def pause(self, container_id: str) -> None:
        """`docker pause`, asked again (at most 5 times, 0.2 s apart) while the kernel's
        freezer cannot freeze the container yet (runc: "unable to freeze", a task
        busy in the kernel, as a replica writing its database can be: seen once in
        CI); any other error at once."""
        import docker.errors

        for attempt in range(FREEZE_TRIES):
            try:
                self._client.containers.get(container_id).pause()
                return
            except docker.errors.APIError as error:
                if "unable to freeze" not in str(error) or attempt == FREEZE_TRIES - 1:
                    raise
                time.sleep(0.2)

    def unpause(self, container_id: str) -> None:
        self._client.containers.get(container_id).unpause()

    def restart(self, container_id: str, grace_s: float) -> None:
        self._client.containers.get(container_id).restart(timeout=int(grace_s))

    def log_tail(self, container_id: str, lines: int = 20) -> str:
        import docker.errors

        try:
            raw = self._client.containers.get(container_id).logs(tail=lines)
        except docker.errors.DockerException:
            return ""
        return bytes(raw).decode("utf-8", errors="replace").rstrip()

    def close(self) -> None:
        self._client.close()


def hosts_entry(hosts: str, hostname: str) -> str | None:
    """The address of `hostname` in the text of an /etc/hosts file (the first line naming it)."""
    for line in hosts.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and hostname in fields[1:]:
            return fields[0]
    return None


def _info(container: Any) -> ContainerInfo:
    labels: Mapping[str, str] = container.labels
    service = labels.get(SERVICE_LABEL, "")
    return ContainerInfo(str(container.id), str(container.name), service, container.attrs)


def _in_container(pid: int, container_id: str) -> bool:
    """Is host pid `pid` in that container's cgroup (so it is not someone else's pid)?"""
    try:
        return container_id in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False


def connect(factory: Callable[[], Any] | None = None) -> Engine:
    """Connect to the engine (DOCKER_HOST or the local socket) or raise DockerUnavailable."""
    try:
        import docker
        import docker.errors
    except ImportError as error:  # the SDK is a dependency; this is a broken install
        raise DockerUnavailable(f"the docker SDK cannot be imported: {error}") from error
    make = factory or (lambda: docker.from_env(version="auto", timeout=30))
    client = None
    try:
        client = make()
        client.ping()
    except (docker.errors.DockerException, OSError) as error:
        if client is not None:
            client.close()
        raise DockerUnavailable(_reason(error)) from error
    return Engine(client)


def _reason(error: Exception) -> str:
    text = str(error)
    if "FileNotFoundError" in text or "No such file" in text:
        return "no Docker socket; is dockerd running? `bash compose/install-docker.sh` starts one"
    if "Permission denied" in text:
        return "permission denied on the Docker socket"
    if "Connection refused" in text:
        return "connection refused: is dockerd running?"
    first = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
