"""What the stack is made of: one `ServiceSpec` per service, in start order.

`STACK` lists the services, the three profiles replicas among them (ports from
`services.ports`; a replica runs `services.profiles` in its region), each after
the services it depends on. Runtimes take a sequence of specs, so tests can run a
stack of their own on free ports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chaos.runtime.errors import UnknownService
from services.ports import HOST, PORTS, PROFILES_REPLICAS

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


def _spec(name: str, *depends_on: str) -> ServiceSpec:
    return ServiceSpec(name, f"services.{name}", PORTS[name], depends_on)


def _replica(region: str) -> ServiceSpec:
    name = PROFILES_REPLICAS[region]
    return ServiceSpec(
        name, "services.profiles", PORTS[name], env=(("CHAOSBED_PROFILES_REGION", region),)
    )


STACK: tuple[ServiceSpec, ...] = (
    _spec("catalog"),
    *(_replica(region) for region in PROFILES_REPLICAS),
    _spec("recommendations", "profiles", "catalog"),
    _spec("playback", "profiles", "catalog"),
)


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
