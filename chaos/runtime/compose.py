"""The compose project in compose/: where its file is, which images it needs, how to run it.

`ComposeProject` runs the Compose v2 CLI (`docker compose -p <project> -f
<file> ...`) as a subprocess; everything else about containers goes through
the docker SDK (see engine.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DockerUnavailable, InvalidStack, RuntimeFailure

__all__ = [
    "BUILD_COMMAND",
    "COMPOSE_FILE_VARIABLE",
    "ComposeFailed",
    "ComposeProject",
    "IMAGES",
    "ImagesMissing",
    "PROJECT",
    "default_compose_file",
]

PROJECT = "chaosbed"
COMPOSE_FILE_VARIABLE = "CHAOSBED_COMPOSE_FILE"
#: Images the default (no profile) stack runs; compose/build-images.sh builds them.
IMAGES = ("chaosbed/service:latest", "chaosbed/prometheus:latest")
BUILD_COMMAND = (
    "bash compose/build-images.sh (offline, as root), "
    "or `docker compose -f compose/docker-compose.yml build` where a registry is reachable"
)


class ImagesMissing(RuntimeFailure):
    """The stack's images are not built yet."""

    def __init__(self, images: Sequence[str]) -> None:
        self.images = tuple(images)
        super().__init__(
            f"image{'s' if len(self.images) > 1 else ''} {', '.join(self.images)} "
            f"not found in the Docker Engine; build them first: {BUILD_COMMAND}"
        )


class ComposeFailed(RuntimeFailure):
    """`docker compose` exited with an error."""

    def __init__(self, args: Sequence[str], code: int, output: str) -> None:
        self.args_ = tuple(args)
        self.code = code
        self.output = output
        lines = "\n".join(output.strip().splitlines()[-20:])
        super().__init__(f"`docker compose {' '.join(args)}` failed (exit {code}):\n{lines}")


def default_compose_file(environ: Mapping[str, str] | None = None) -> Path:
    """$CHAOSBED_COMPOSE_FILE, else compose/docker-compose.yml of this source tree."""
    env = os.environ if environ is None else environ
    configured = env.get(COMPOSE_FILE_VARIABLE, "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(__file__).resolve().parents[2] / "compose" / "docker-compose.yml"


@dataclass(frozen=True)
class ComposeProject:
    """One compose project: `docker compose -p <name> -f <file>`, with an environment."""

    file: Path
    name: str = PROJECT
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

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
        return ["docker", "compose", "-p", self.name, "-f", str(self.file), *args]

    def run(self, *args: str, timeout_s: float = 600.0) -> str:
        """Run `docker compose <args>`; its combined output, or ComposeFailed."""
        self.check()
        try:
            done = subprocess.run(
                self.command(*args),
                env=dict(self.environ),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            output = error.output if isinstance(error.output, str) else ""
            raise ComposeFailed(args, -1, f"timed out after {timeout_s:.0f}s\n{output}") from None
        if done.returncode != 0:
            if "docker compose" in done.stdout and "is not a docker command" in done.stdout:
                raise DockerUnavailable(
                    "the Compose v2 plugin is missing: bash compose/install-docker.sh"
                )
            raise ComposeFailed(args, done.returncode, done.stdout)
        return done.stdout
