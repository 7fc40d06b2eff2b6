"""What the stack is made of: one `ServiceSpec` per service, in start order.

`STACK` lists the services of `services.topology`, the three profiles
replicas among them (a replica runs `services.profiles` in its region), each
after the services it starts after. Runtimes take a sequence of specs, so tests can run a
stack of their own on free ports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chaos.runtime.errors import UnknownService
from services.topology import HOST, SERVICES, Service

__all__ = ["STACK", "ServiceSpec", "check_start_order", "spec_named"]


@dataclass(frozen=True)
class ServiceSpec:
    """One service: its name, the module run as `python -m <module>`, its port, its dependencies."""

    name: str
    module: str
    port: int
    depends_on: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    """Extra environment of this service (a profiles replica's region)."""

    @property
    def base_url(self) -> str:
        """Where it answers on this machine (every runtime publishes on 127.0.0.1)."""
        return f"http://{HOST}:{self.port}"


def _spec(service: Service) -> ServiceSpec:
    env = () if service.region is None else (("CHAOSBED_PROFILES_REGION", service.region),)
    return ServiceSpec(service.name, service.module, service.port, service.starts_after, env)


STACK: tuple[ServiceSpec, ...] = tuple(_spec(service) for service in SERVICES.values())


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


def spec_named(specs: Sequence[ServiceSpec], name: str) -> ServiceSpec:
    """The spec of service `name`; UnknownService (naming the known ones) if there is none."""
    for spec in specs:
        if spec.name == name:
            return spec
    raise UnknownService(name, [spec.name for spec in specs])
