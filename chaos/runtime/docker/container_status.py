"""What `docker inspect` says about a compose container, in the runtimes' words.

Pure functions of the inspect data, so they are tested without an engine:
`container_status` gives the `ServiceStatus` that `status` reports,
`instance_state` the `InstanceState` that the fault methods verify with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaos.runtime.interface import InstanceState, RunState, ServiceStatus
from chaos.runtime.stack import ServiceSpec

__all__ = ["ContainerInfo", "container_status", "instance_state", "runs"]


@dataclass(frozen=True)
class ContainerInfo:
    """The parts of `docker inspect` that status needs."""

    id: str
    name: str
    service: str
    attrs: Mapping[str, Any]


# docker's State.Status -> the runtimes' state vocabulary (see interface.ServiceStatus).
_STATES = {
    "created": "starting",
    "running": "running",
    "restarting": "restarting",
    "paused": "paused",
    "removing": "stopping",
    "exited": "stopped",
    "dead": "failed",
}


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


def instance_state(info: ContainerInfo, deployed: Mapping[str, str] | None = None) -> InstanceState:
    """The container as an instance: running, paused or stopped, and its main process's pid;
    its release: those of the `deployed` variables its environment holds."""
    state: Mapping[str, Any] = info.attrs.get("State", {})
    status = str(state.get("Status", "exited"))
    run_state: RunState = "stopped"
    if status == "running":
        run_state = "running"
    elif status == "paused":
        run_state = "paused"
    pid = int(state.get("Pid", 0) or 0) or None
    environment = set(info.attrs.get("Config", {}).get("Env") or ())
    release = tuple(
        sorted((k, v) for k, v in (deployed or {}).items() if f"{k}={v}" in environment)
    )
    return InstanceState(
        service=info.service,
        instance=info.name,
        state=run_state,
        pid=pid if run_state != "stopped" else None,
        container_id=info.id,
        restarts=int(info.attrs.get("RestartCount", 0) or 0),
        detail=status,
        release=release,
    )


def runs(info: ContainerInfo) -> bool:
    """Running, restarting or paused: the container counts as part of a running stack."""
    state: Mapping[str, Any] = info.attrs.get("State", {})
    return bool(state.get("Running")) or state.get("Status") in ("running", "restarting", "paused")
