"""The supervisor's record of what runs: state_dir/state.json, rewritten atomically.

The chaos runner reads the pids here to send signals to a service (SIGKILL,
SIGSTOP); the supervisor notices the exit and restarts the service.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.runtime.state_dir import write_atomically

__all__ = ["ServiceRecord", "SupervisorState"]


@dataclass
class ServiceRecord:
    name: str
    module: str
    port: int
    pid: int | None = None
    state: str = "waiting"
    restarts: int = 0
    last_exit: int | None = None
    detail: str = ""
    release: dict[str, str] = field(default_factory=dict)
    """The deployed variables its current process was started with (release files)."""


@dataclass
class SupervisorState:
    supervisor_pid: int | None
    services: list[ServiceRecord] = field(default_factory=list)

    def record(self, name: str) -> ServiceRecord | None:
        return next((record for record in self.services if record.name == name), None)

    def pids(self) -> list[int]:
        return [record.pid for record in self.services if record.pid is not None]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> SupervisorState:
        raw: dict[str, Any] = json.loads(text)
        pid = raw.get("supervisor_pid")
        return cls(
            supervisor_pid=None if pid is None else int(pid),
            services=[ServiceRecord(**item) for item in raw.get("services", [])],
        )

    def write(self, path: Path) -> None:
        write_atomically(path, self.to_json())

    @classmethod
    def read(cls, path: Path) -> SupervisorState | None:
        """The last state written, or None when there is none (or it cannot be parsed)."""
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError, KeyError):
            return None
