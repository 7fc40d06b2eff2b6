"""The compose project in compose/: where its file is and how to run `docker compose` on it.

`ComposeProject` runs the Compose v2 CLI (`docker compose -p <project> -f
<file> ...`) as a subprocess in a session of its own, so a Ctrl-C in the
terminal reaches chaosbed only, which then stops compose and cleans up.
Everything else about containers goes through the docker SDK (engine.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chaos.project import COMPOSE_FILE
from chaos.runtime.errors import ComposeFailed, DockerUnavailable, InvalidStack
from chaos.runtime.session import run_in_session

__all__ = ["COMPOSE_FILE_VARIABLE", "PROJECT", "ComposeProject", "default_compose_file"]

PROJECT = "chaosbed"
COMPOSE_FILE_VARIABLE = "CHAOSBED_COMPOSE_FILE"


def default_compose_file(environ: Mapping[str, str] | None = None) -> Path:
    """$CHAOSBED_COMPOSE_FILE, else compose/docker-compose.yml of this source tree."""
    env = os.environ if environ is None else environ
    configured = env.get(COMPOSE_FILE_VARIABLE, "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    return COMPOSE_FILE


@dataclass(frozen=True)
class ComposeProject:
    """One compose project: `docker compose -p <name> -f <file>`, with an environment."""

    file: Path
    name: str = PROJECT
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    #: further files merged over `file` (`-f` each, in order): a deploy's release
    overrides: tuple[Path, ...] = ()

    def check(self) -> None:
        """Raise InvalidStack / DockerUnavailable when compose cannot run at all."""
        if not self.file.is_file():
            raise InvalidStack(
                f"compose file {self.file} not found; run from a chaosbed checkout "
                f"or set {COMPOSE_FILE_VARIABLE}"
            )
        if shutil.which("docker", path=self.environ.get("PATH")) is None:
            raise DockerUnavailable("the docker CLI is not installed")

    def command(self, *args: str) -> list[str]:
        files = [part for path in (self.file, *self.overrides) for part in ("-f", str(path))]
        return ["docker", "compose", "-p", self.name, *files, *args]

    def run(self, *args: str, timeout_s: float = 600.0) -> str:
        """Run `docker compose <args>`; its combined output, or ComposeFailed."""
        self.check()
        try:
            code, output = run_in_session(
                self.command(*args), self.environ, timeout_s=timeout_s, capture=True
            )
        except subprocess.TimeoutExpired as error:
            output = error.output if isinstance(error.output, str) else ""
            raise ComposeFailed(args, -1, f"timed out after {timeout_s:.0f}s\n{output}") from None
        if code != 0:
            if "docker compose" in output and "is not a docker command" in output:
                raise DockerUnavailable(
                    "the Compose v2 plugin is missing: bash compose/install-docker.sh"
                )
            raise ComposeFailed(args, code, output)
        return output
