"""The Docker Engine, through the docker SDK: reachability, images, a project's containers.

`container_status` turns what `docker inspect` says about a compose
container into the `ServiceStatus` every runtime reports; it is a pure
function of the inspect data, so it is tested without an engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import DockerUnavailable
from .spec import ServiceSpec, ServiceStatus

__all__ = ["ContainerInfo", "Engine", "connect", "container_status"]

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"

# docker's State.Status -> the runtimes' state vocabulary (see spec.ServiceStatus).
_STATES = {
    "created": "starting",
    "running": "running",
    "restarting": "restarting",
    "paused": "paused",
    "removing": "stopping",
    "exited": "stopped",
    "dead": "failed",
}


@dataclass(frozen=True)
class ContainerInfo:
    """The parts of `docker inspect` that status needs."""

    id: str
    name: str
    service: str
    attrs: Mapping[str, Any]


def container_status(spec: ServiceSpec, info: ContainerInfo | None) -> ServiceStatus:
    """The status of one service from its container's inspect data (None: no container)."""
    if info is None:
        return ServiceStatus(spec.name, spec.port, None, "stopped", False, False)
    state: Mapping[str, Any] = info.attrs.get("State", {})
    status = str(state.get("Status", "exited"))
    health = str(state.get("Health", {}).get("Status", "")) if state.get("Health") else ""
    name = _STATES.get(status, status)
    if name == "running" and health == "starting":
        name = "starting"
    exit_code = int(state.get("ExitCode", 0) or 0)
    if name == "stopped" and exit_code not in (0, 137, 143):
        name = "failed"
    running = status == "running"
    pid = int(state.get("Pid", 0) or 0) or None
    detail = _detail(status, health, exit_code, state)
    return ServiceStatus(
        name=spec.name,
        port=spec.port,
        pid=pid if running else None,
        state=name,
        healthy=running,
        ready=running and health in ("healthy", ""),
        restarts=int(info.attrs.get("RestartCount", 0) or 0),
        detail=detail,
    )


def _detail(status: str, health: str, exit_code: int, state: Mapping[str, Any]) -> str:
    if status == "running" and health in ("healthy", ""):
        return ""  # nothing to say, as for a healthy supervised process
    parts = [f"container {status}"]
    if health:
        parts.append(f"health {health}")
    if status in ("exited", "dead"):
        parts.append(f"exit code {exit_code}")
        if state.get("OOMKilled"):
            parts.append("killed: out of memory")
    error = str(state.get("Error", "") or "")
    if error:
        parts.append(error)
    return ", ".join(parts)


class Engine:
    """A connected docker SDK client, narrowed to what the docker runtime uses."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def missing_images(self, images: tuple[str, ...]) -> list[str]:
        import docker.errors

        missing = []
        for image in images:
            try:
                self._client.images.get(image)
            except docker.errors.ImageNotFound:
                missing.append(image)
        return missing

    def project_containers(self, project: str) -> dict[str, ContainerInfo]:
        """The project's containers by compose service name (all states)."""
        containers = self._client.containers.list(
            all=True, filters={"label": f"{PROJECT_LABEL}={project}"}
        )
        found: dict[str, ContainerInfo] = {}
        for container in containers:
            labels: Mapping[str, str] = container.labels
            service = labels.get(SERVICE_LABEL, "")
            info = ContainerInfo(str(container.id), str(container.name), service, container.attrs)
            # Several containers of a service (during a recreate): prefer a running one.
            if service not in found or info.attrs.get("State", {}).get("Running"):
                found[service] = info
        return found

    def log_tail(self, container_id: str, lines: int = 20) -> str:
        import docker.errors

        try:
            raw = self._client.containers.get(container_id).logs(tail=lines)
        except docker.errors.DockerException:
            return ""
        return bytes(raw).decode("utf-8", errors="replace").rstrip()

    def close(self) -> None:
        self._client.close()


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
