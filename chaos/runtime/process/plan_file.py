"""The plan: what `up` asks the supervisor to run, handed over as state_dir/plan.json."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos.runtime.stack import ServiceSpec
from chaos.runtime.state_dir import write_atomically

from .restart_policy import RestartPolicy

__all__ = ["Plan"]


@dataclass(frozen=True)
class Plan:
    """The services in start order, the restart policy, and how long a service
    waits for its dependencies to become ready before it is started anyway."""

    services: tuple[ServiceSpec, ...]
    policy: RestartPolicy = RestartPolicy()
    dependency_wait_s: float = 30.0

    @classmethod
    def of(cls, services: Sequence[ServiceSpec], policy: RestartPolicy) -> Plan:
        return cls(tuple(services), policy)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        raw: dict[str, Any] = json.loads(text)
        services = tuple(
            ServiceSpec(
                name=str(item["name"]),
                module=str(item["module"]),
                port=int(item["port"]),
                depends_on=tuple(str(name) for name in item["depends_on"]),
            )
            for item in raw["services"]
        )
        return cls(
            services=services,
            policy=RestartPolicy(**raw["policy"]),
            dependency_wait_s=float(raw["dependency_wait_s"]),
        )

    def write(self, path: Path) -> None:
        write_atomically(path, self.to_json())

    @classmethod
    def read(cls, path: Path) -> Plan:
        return cls.from_json(path.read_text(encoding="utf-8"))
