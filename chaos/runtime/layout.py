"""Where one stack listens and what it is called: `StackPorts`, kept in the state directory.

A stack's ports move together. Without a port base the stack uses the usual
ports (services 8081-8086, Prometheus 9090, the load generator's member-side
metrics 9095, Grafana 3000, `chaosbed monkey` 9096) and the compose project `chaosbed`. With a port
base N (`chaosbed up --port-base N`, or CHAOSBED_PORT_BASE) every port is in
the block N..N+9:

    N+0 catalog            N+4 profiles-eu        N+7 load generator metrics
    N+1 recommendations    N+5 profiles-apac      N+8 Grafana
    N+2 playback           N+6 Prometheus         N+9 the monkey's endpoint
    N+3 profiles

and the stack is named `chaosbed-N` (the compose project, hence its
containers, network and volumes), its state directory is
`.chaosbed/stacks/N` unless --state-dir says otherwise. `up` writes the
layout, and the runtime that started the stack, to <state_dir>/ports.json;
every later command on that state directory reads them from there, so
`--state-dir` alone finds the stack, in whichever runtime it runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from services.topology import (
    GRAFANA_PORT,
    LOAD_GENERATOR_PORT,
    MONKEY_PORT,
    PORTS,
    PROMETHEUS_PORT,
)

from .errors import InvalidStack
from .stack import STACK, ServiceSpec
from .state_dir import StatePaths, write_atomically

__all__ = [
    "BLOCK",
    "DEFAULT_STATE_DIR",
    "LOAD_PORT",
    "PORT_BASE_VARIABLE",
    "PROJECT",
    "StackPorts",
    "parse_port_base",
    "ports_for",
    "recorded_runtime",
    "state_dir_for",
]

PORT_BASE_VARIABLE = "CHAOSBED_PORT_BASE"
PROJECT = "chaosbed"
DEFAULT_STATE_DIR = Path(".chaosbed")
#: The load generator's member-side /metrics on the usual layout.
LOAD_PORT = LOAD_GENERATOR_PORT
#: How many ports a stack with a port base takes (N..N+BLOCK-1).
BLOCK = 10
_ORDER = tuple(PORTS)  # catalog, recommendations, playback, profiles, -eu, -apac
_LOWEST, _HIGHEST = 1024, 65535 - BLOCK + 1
_FILE = "ports.json"


def parse_port_base(text: str, *, source: str = "--port-base") -> int:
    """A port base from the command line or the environment; ValueError naming `source`."""
    try:
        base = int(text)
    except ValueError:
        raise ValueError(f"{source}: not a port number: {text!r}") from None
    if not _LOWEST <= base <= _HIGHEST:
        raise ValueError(
            f"{source}: {base} is outside {_LOWEST}..{_HIGHEST} "
            f"(a stack takes the {BLOCK} ports from its base up)"
        )
    return base


@dataclass(frozen=True)
class StackPorts:
    """Every port of one stack, and its name."""

    services: Mapping[str, int] = field(default_factory=lambda: PORTS)
    prometheus: int = PROMETHEUS_PORT
    load: int = LOAD_PORT
    grafana: int = GRAFANA_PORT
    base: int | None = None
    monkey: int = MONKEY_PORT

    @classmethod
    def from_base(cls, base: int | None) -> StackPorts:
        """The usual ports for None, else the block base..base+9."""
        if base is None:
            return cls()
        parse_port_base(str(base))
        services = MappingProxyType({name: base + i for i, name in enumerate(_ORDER)})
        offset = len(_ORDER)
        return cls(
            services, base + offset, base + offset + 1, base + offset + 2, base, base + offset + 3
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> StackPorts:
        """The stack CHAOSBED_PORT_BASE names (the usual ports when unset); InvalidStack,
        naming the variable, for a bad value."""
        env = os.environ if environ is None else environ
        text = env.get(PORT_BASE_VARIABLE, "").strip()
        if not text:
            return cls()
        try:
            return cls.from_base(parse_port_base(text, source=PORT_BASE_VARIABLE))
        except ValueError as error:
            raise InvalidStack(str(error)) from None

    @property
    def project(self) -> str:
        """The compose project (and stack) name: chaosbed, or chaosbed-<base>."""
        return PROJECT if self.base is None else f"{PROJECT}-{self.base}"

    def specs(self, stack: tuple[ServiceSpec, ...] = STACK) -> tuple[ServiceSpec, ...]:
        """`stack` with each service on this layout's port."""
        return tuple(
            ServiceSpec(s.name, s.module, self.services[s.name], s.depends_on, s.env) for s in stack
        )

    # -- kept in the state directory ---------------------------------------------

    def write(self, paths: StatePaths, runtime: str | None = None) -> None:
        """Keep the layout, and which runtime started the stack, in the state directory."""
        paths.root.mkdir(parents=True, exist_ok=True)
        record: dict[str, object] = {"base": self.base, "project": self.project}
        record |= {"runtime": runtime, "services": dict(self.services)}
        record |= {"prometheus": self.prometheus, "load": self.load, "grafana": self.grafana}
        write_atomically(paths.root / _FILE, json.dumps(record, indent=2) + "\n")

    @classmethod
    def read(cls, paths: StatePaths) -> StackPorts | None:
        """The layout `up` wrote in this state directory; None when there is none."""
        path = paths.root / _FILE
        try:
            record = json.loads(path.read_text())
            return cls.from_base(record["base"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidStack(f"{path}: not a stack layout ({error}); remove it") from None


def recorded_runtime(state_dir: Path) -> str | None:
    """The runtime `up` started the stack in `state_dir` with; None when none was recorded."""
    try:
        record = json.loads((StatePaths.at(state_dir).root / _FILE).read_text())
    except (OSError, ValueError):
        return None
    runtime = record.get("runtime") if isinstance(record, dict) else None
    return runtime if isinstance(runtime, str) else None


def state_dir_for(state_dir: Path | None, base: int | None) -> Path:
    """The state directory: as given, else .chaosbed (.chaosbed/stacks/<base> with a base)."""
    if state_dir is not None:
        return state_dir
    return DEFAULT_STATE_DIR if base is None else DEFAULT_STATE_DIR / "stacks" / str(base)


def ports_for(
    state_dir: Path, base: int | None = None, environ: Mapping[str, str] | None = None
) -> StackPorts:
    """The layout of the stack in `state_dir`.

    An explicit `base` wins; then the layout `up` wrote there; then
    CHAOSBED_PORT_BASE in `environ`; then the usual ports.
    """
    if base is not None:
        return StackPorts.from_base(base)
    written = StackPorts.read(StatePaths.at(state_dir))
    if written is not None:
        return written
    return StackPorts.from_environment(environ)
