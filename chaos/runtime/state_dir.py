"""The state directory (default .chaosbed/): what a runtime keeps between commands.

    <state_dir>/
        token              the control-API token (mode 0600); both runtimes
        ports.json         the stack's ports and name (chaos.runtime.layout), written by `up`
        supervisor.pid     process runtime: pid of the running supervisor (removed when it exits)
        plan.json          process runtime: the stack the supervisor runs (written by `up`)
        state.json         process runtime: pids, states and restarts, rewritten atomically
        hold/<service>     present: the supervisor keeps <service> stopped
        release/<service>.json  a deploy's variables over <service>'s own environment
        logs/<service>.log one log per service, plus logs/supervisor.log
        data/              service data (profiles.db)
        prometheus/        process runtime: Prometheus's config, rules and data/ (when it runs)

Holding is the chaos runner's way to stop a service for a while: create the
hold file (the supervisor stops the service and does not restart it), remove
it (the supervisor starts the service again, with a fresh restart budget).

A release file is a deploy's record: the variables set on top of a service's
own environment. The process runtime's supervisor reads it whenever it
starts the service; both runtimes keep it until the deploy is undone, so
`chaosbed cleanup` finds a deploy a run left behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["StatePaths", "write_atomically"]


@dataclass(frozen=True)
class StatePaths:
    root: Path

    @classmethod
    def at(cls, state_dir: Path) -> StatePaths:
        return cls(state_dir.expanduser().resolve())

    @property
    def pid_file(self) -> Path:
        return self.root / "supervisor.pid"

    @property
    def plan_file(self) -> Path:
        return self.root / "plan.json"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def token_file(self) -> Path:
        return self.root / "token"

    @property
    def hold_dir(self) -> Path:
        return self.root / "hold"

    @property
    def release_dir(self) -> Path:
        return self.root / "release"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def prometheus_dir(self) -> Path:
        return self.root / "prometheus"

    @property
    def supervisor_log(self) -> Path:
        return self.log_dir / "supervisor.log"

    def service_log(self, service: str) -> Path:
        return self.log_dir / f"{service}.log"

    def create(self) -> None:
        for directory in (self.root, self.hold_dir, self.log_dir, self.data_dir):
            directory.mkdir(parents=True, exist_ok=True)

    def hold(self, service: str) -> None:
        """Ask the supervisor to stop `service` and keep it stopped."""
        self.hold_dir.mkdir(parents=True, exist_ok=True)
        (self.hold_dir / service).touch()

    def release(self, service: str) -> None:
        """Let the supervisor start `service` again."""
        (self.hold_dir / service).unlink(missing_ok=True)

    def is_held(self, service: str) -> bool:
        return (self.hold_dir / service).exists()

    def release_file(self, service: str) -> Path:
        return self.release_dir / f"{service}.json"

    def set_release(self, service: str, env: dict[str, str]) -> None:
        """Record `env` as `service`'s release (an empty one: remove the record)."""
        if not env:
            self.release_file(service).unlink(missing_ok=True)
            return
        self.release_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(self.release_file(service), json.dumps(env, sort_keys=True))

    def release_of(self, service: str) -> dict[str, str]:
        """The variables deployed to `service` ({} when none, or the record is unreadable)."""
        try:
            raw = json.loads(self.release_file(service).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        if not isinstance(raw, dict):
            return {}
        return {str(k): str(v) for k, v in raw.items()}

    def releases(self) -> dict[str, dict[str, str]]:
        """Every service with a release recorded, and its variables."""
        if not self.release_dir.is_dir():
            return {}
        found = {path.stem: self.release_of(path.stem) for path in self.release_dir.glob("*.json")}
        return {service: env for service, env in sorted(found.items()) if env}

    def read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    """Write `text` to `path` so that readers see the old or the new content, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
