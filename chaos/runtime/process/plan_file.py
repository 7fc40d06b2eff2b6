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

from .prometheus_program import PrometheusPlan
from .restart_policy import RestartPolicy

__all__ = ["Plan"]


@dataclass(frozen=True)
class Plan:
    """The services in start order, the restart policy, how long a service
    waits for its dependencies to become ready before it is started anyway, and
    the Prometheus to run beside them (None: none)."""

    services: tuple[ServiceSpec, ...]
    policy: RestartPolicy = RestartPolicy()
    dependency_wait_s: float = 30.0
    prometheus: PrometheusPlan | None = None

    @classmethod
    def of(
        cls,
        services: Sequence[ServiceSpec],
        policy: RestartPolicy,
        prometheus: PrometheusPlan | None = None,
    ) -> Plan:
        return cls(tuple(services), policy, prometheus=prometheus)

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
                env=tuple((str(k), str(v)) for k, v in item.get("env", ())),
            )
            for item in raw["services"]
        )
        prometheus = raw.get("prometheus")
        return cls(
            services=services,
            policy=RestartPolicy(**raw["policy"]),
            dependency_wait_s=float(raw["dependency_wait_s"]),
            prometheus=None if prometheus is None else PrometheusPlan(**prometheus),
        )

    def write(self, path: Path) -> None:
        write_atomically(path, self.to_json())

    @classmethod
    def read(cls, path: Path) -> Plan:
        return cls.from_json(path.read_text(encoding="utf-8"))

    @classmethod
    def read_if_any(cls, path: Path) -> Plan | None:
        """The last plan written, or None when there is none (or it cannot be parsed)."""
        try:
            return cls.read(path)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError, KeyError):
            return None
