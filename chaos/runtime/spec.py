"""What the stack is made of: one `ServiceSpec` per service, and how each one is doing.

`STACK` lists the four services in start order (a service comes after the
services it depends on). Runtimes take a sequence of specs, so tests can run
a stack of their own on free ports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["STACK", "ServiceSpec", "ServiceStatus", "check_start_order"]


@dataclass(frozen=True)
class ServiceSpec:
    """One service: its name, the module run as `python -m <module>`, its port, its dependencies."""

    name: str
    module: str
    port: int
    depends_on: tuple[str, ...] = ()


STACK: tuple[ServiceSpec, ...] = (
    ServiceSpec("catalog", "services.catalog", 8081),
    ServiceSpec("profiles", "services.profiles", 8084),
    ServiceSpec("recommendations", "services.recommendations", 8082, ("profiles", "catalog")),
    ServiceSpec("playback", "services.playback", 8083, ("profiles", "catalog")),
)


@dataclass
class ServiceStatus:
    """How one service is doing, as a runtime reports it.

    `state` is one of: waiting (for its dependencies), starting, running,
    restarting (after an exit, during its backoff), stopping, held (kept
    stopped on request), paused (SIGSTOP), failed (gave up restarting),
    orphaned (alive but its supervisor is gone), stopped.
    """

    name: str
    port: int
    pid: int | None
    state: str
    healthy: bool
    ready: bool
    restarts: int = 0
    detail: str = ""


def check_start_order(specs: Sequence[ServiceSpec]) -> None:
    """Raise ValueError unless names and ports are unique and each dependency comes first."""
    seen: set[str] = set()
    ports: set[int] = set()
    for spec in specs:
        if spec.name in seen:
            raise ValueError(f"service {spec.name!r} is listed twice")
        if spec.port in ports:
            raise ValueError(f"port {spec.port} is used by two services (second: {spec.name!r})")
        for dependency in spec.depends_on:
            if dependency not in seen:
                raise ValueError(
                    f"service {spec.name!r} depends on {dependency!r}, "
                    "which is not listed before it"
                )
        seen.add(spec.name)
        ports.add(spec.port)
