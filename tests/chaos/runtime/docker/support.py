"""What the docker runtime tests share: the project under test, its ports, and fakes of
the docker SDK client and the docker CLI for the tests that need no engine."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker
import docker.errors

from chaos.runtime.docker import DockerRuntime
from chaos.runtime.docker.engine import PROJECT_LABEL, SERVICE_LABEL
from chaos.runtime.stack import STACK
from tests.worker import worker_name, worker_ports

PROJECT = worker_name("chaosbed-runtime-test")
TOKEN = "runtime-test-token"
# A port block of its own (below the ephemeral range), so these tests never race
# another stack: 18081.. alone, the block 50 above the worker's base under xdist.
LAYOUT = worker_ports(50, 18081)
SPECS = LAYOUT.specs()
PROMETHEUS_PORT = LAYOUT.prometheus


def runtime_for(tmp_path: Path, **kwargs: Any) -> DockerRuntime:
    environ = {**os.environ, "CHAOSBED_CONTROL_TOKEN": TOKEN}
    return DockerRuntime(
        tmp_path,
        services=SPECS,
        ports=LAYOUT,
        project=PROJECT,
        environ=environ,
        prometheus_port=PROMETHEUS_PORT,
        **kwargs,
    )


# -- up and its failures, against a fake engine and a fake docker CLI ----------
#
# The runtime takes its docker SDK client from `engine_factory`, and runs the
# `docker` it finds on its environment's PATH: a fake client with fixed
# containers and a shell script that logs its arguments stand in for both.


class FakeContainer:
    def __init__(self, service: str, state: dict[str, Any]) -> None:
        self.id = f"id-{service}"
        self.name = f"{PROJECT}-{service}-1"
        self.labels = {PROJECT_LABEL: PROJECT, SERVICE_LABEL: service}
        self.attrs = {"State": state, "RestartCount": 0}

    def logs(self, tail: int) -> bytes:
        return f"{self.name}: still warming up".encode()


class FakeContainers:
    """containers.list answers each of `answers` in turn, then the last one again."""

    def __init__(self, answers: Sequence[Sequence[FakeContainer]]) -> None:
        self.answers = [list(answer) for answer in answers]

    def list(
        self, all: bool, filters: dict[str, str], ignore_removed: bool = False
    ) -> list[FakeContainer]:
        assert all and filters == {"label": f"{PROJECT_LABEL}={PROJECT}"}
        assert ignore_removed  # one removed mid-listing is not an error (the real list)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def get(self, container_id: str) -> FakeContainer:
        return next(c for answer in self.answers for c in answer if c.id == container_id)


class FakeImages:
    """Every image is there, or, given `built_when`, once that file exists (the fake build)."""

    def __init__(self, built_when: Path | None = None) -> None:
        self.built_when = built_when

    def get(self, image: str) -> object:
        if self.built_when is not None and not self.built_when.exists():
            raise docker.errors.ImageNotFound(image)
        return object()


class FakeClient:
    def __init__(self, containers: FakeContainers, images: FakeImages | None = None) -> None:
        self.containers = containers
        self.images = images or FakeImages()

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        pass


RUNNING = {"Status": "running", "Running": True, "Pid": 7, "Health": {"Status": "healthy"}}
UNHEALTHY = {"Status": "running", "Running": True, "Pid": 7, "Health": {"Status": "unhealthy"}}
RESTARTING = {"Status": "restarting", "Running": True, "Restarting": True, "ExitCode": 137}
PAUSED = {"Status": "paused", "Running": True, "Paused": True, "Pid": 7}
EXITED = {"Status": "exited", "Running": False, "ExitCode": 0}
KILLED = {"Status": "exited", "Running": False, "ExitCode": 137}
DOWN_FAILURE = "Error response from daemon: network chaosbed-runtime-test_default has endpoints"


class FakeDocker:
    """A `docker` on PATH that logs its arguments; `compose up`/`down` exit with given codes."""

    def __init__(
        self, tmp_path: Path, *, up: int = 0, down: int = 0, interrupt_up: bool = False
    ) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        self.log = tmp_path / "docker.log"
        self.up_pid_file = tmp_path / "up.pid"
        # interrupt_up: `compose up` sends Ctrl-C's SIGINT to chaosbed, then keeps working.
        on_up = (
            f'echo $$ > "{self.up_pid_file}"; kill -INT $PPID; sleep 30'
            if interrupt_up
            else f'echo "container {PROJECT}-catalog-1 is unhealthy"; exit {up}'
        )
        script = bin_dir / "docker"
        script.write_text(
            "#!/bin/sh\n"
            f'echo "$*" >> "{self.log}"\n'
            'case " $* " in\n'
            f'  *" up "*) {on_up} ;;\n'
            f'  *" down "*) echo "{DOWN_FAILURE}"; exit {down} ;;\n'
            "esac\n"
        )
        script.chmod(0o755)
        self.environ = {k: v for k, v in os.environ.items() if k != "CHAOSBED_CONTROL_TOKEN"}
        self.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"

    def commands(self) -> list[str]:
        """The compose subcommand of every run (`up`, `down`), in order."""
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [next(w for w in line.split() if w in SUBCOMMANDS) for line in lines]


SUBCOMMANDS = frozenset({"up", "down", "stop", "rm", "ps", "exec", "config"})


def fake_runtime(
    tmp_path: Path,
    free_port: Callable[[], int],
    docker_cli: FakeDocker,
    *answers: Sequence[FakeContainer],
    images: FakeImages | None = None,
    **options: Any,
) -> DockerRuntime:
    containers = FakeContainers(answers)
    return DockerRuntime(
        tmp_path / "state",
        services=tuple(replace(spec, port=free_port()) for spec in STACK),
        project=PROJECT,
        environ=docker_cli.environ,
        prometheus_port=free_port(),
        engine_factory=lambda: FakeClient(containers, images),
        **options,
    )


def fake_build(tmp_path: Path, exit_code: int = 0) -> tuple[Path, Path]:
    """A build script that 'builds' the images by creating a file; (script, that file)."""
    built = tmp_path / "built"
    script = tmp_path / "build-images.sh"
    script.write_text(f'echo building >&2\ntouch "{built}"\nexit {exit_code}\n')
    return script, built
