"""What the supervisor runs: a program, started from a command, listening on one port.

Each service is one (`python -m services.<name>`, alive on /healthz, ready on
/readyz); so is the Prometheus that runs beside them (/-/healthy, /-/ready; see
prometheus_program.py).
`marker` is a string the program's command line always holds (a service's
module, Prometheus's config file): a recycled pid whose command line lacks it
is not ours.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from chaos.runtime.stack import ServiceSpec

__all__ = ["Program", "service_program"]


@dataclass(frozen=True)
class Program:
    name: str
    port: int
    command: tuple[str, ...]
    marker: str
    health_path: str = "/healthz"
    ready_path: str = "/readyz"
    depends_on: tuple[str, ...] = ()


def service_program(spec: ServiceSpec) -> Program:
    """A service, run with this Python: ``python -m <module>``."""
    return Program(
        name=spec.name,
        port=spec.port,
        command=(sys.executable, "-m", spec.module),
        marker=spec.module,
        depends_on=spec.depends_on,
    )
