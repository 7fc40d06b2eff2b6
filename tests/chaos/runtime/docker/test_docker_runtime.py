"""The docker runtime: status from container state, clear failures, and a real up/down.

Tests marked `docker` drive the real compose project (under its own project
name) and fail, never skip, when the engine is unreachable.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker
import pytest

from chaos.runtime.docker import DockerRuntime, default_compose_file
from chaos.runtime.docker.container_status import ContainerInfo, container_status
from chaos.runtime.docker.engine import PROJECT_LABEL, SERVICE_LABEL
from chaos.runtime.errors import (
    AlreadyRunning,
    ComposeFailed,
    DockerUnavailable,
    ImagesMissing,
    InvalidStack,
    ServiceNeverHealthy,
)
from chaos.runtime.stack import STACK, ServiceSpec
from tests.compose.compose_support import ensure_images

CATALOG = ServiceSpec("catalog", "services.catalog", 8081)
PROJECT = "chaosbed-runtime-test"
TOKEN = "runtime-test-token"


def info(state: dict[str, Any], restarts: int = 0) -> ContainerInfo:
    return ContainerInfo(
        "abc", "chaosbed-catalog-1", "catalog", {"State": state, "RestartCount": restarts}
    )


def test_a_missing_container_is_stopped() -> None:
    status = container_status(CATALOG, None)
    assert (status.state, status.healthy, status.ready, status.pid) == (
        "stopped",
        False,
        False,
        None,
    )


def test_a_running_healthy_container_is_running_and_ready() -> None:
    state = {"Status": "running", "Running": True, "Pid": 42, "Health": {"Status": "healthy"}}
    status = container_status(CATALOG, info(state, restarts=2))
    assert (status.state, status.ready, status.pid, status.restarts) == ("running", True, 42, 2)


def test_a_container_still_in_its_start_period_is_starting() -> None:
    state = {"Status": "running", "Running": True, "Pid": 42, "Health": {"Status": "starting"}}
    status = container_status(CATALOG, info(state))
    assert (status.state, status.ready) == ("starting", False)
    assert "health starting" in status.detail


def test_a_container_that_exited_with_an_error_has_failed() -> None:
    status = container_status(CATALOG, info({"Status": "exited", "ExitCode": 1}))
    assert status.state == "failed"
    assert "exit code 1" in status.detail


def test_a_restarting_container_is_restarting() -> None:
    status = container_status(CATALOG, info({"Status": "restarting", "ExitCode": 137}, 3))
    assert (status.state, status.restarts, status.pid) == ("restarting", 3, None)


def test_missing_images_name_the_build_command() -> None:
    message = str(ImagesMissing(["chaosbed/service:latest"]))
    assert "chaosbed/service:latest" in message
    assert "`chaosbed up --runtime docker --build`" in message
    assert "compose/build-images.sh" in message


def test_an_unreachable_engine_is_docker_unavailable(tmp_path: Path) -> None:
    runtime = DockerRuntime(
        tmp_path,
        engine_factory=lambda: docker.DockerClient(base_url="tcp://127.0.0.1:9", timeout=5),
    )
    with pytest.raises(DockerUnavailable, match="Docker Engine cannot be reached"):
        runtime.status()
    with pytest.raises(DockerUnavailable):
        runtime.up()


def test_a_missing_compose_file_is_an_invalid_stack(tmp_path: Path) -> None:
    runtime = DockerRuntime(tmp_path, compose_file=tmp_path / "nope.yml")
    with pytest.raises(InvalidStack, match="nope.yml"):
        runtime.up()


def test_compose_publishes_each_service_on_its_spec_port(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path)
    assert runtime.compose.environ["CHAOSBED_CATALOG_HOST_PORT"] == "18081"
    assert runtime.compose.environ["CHAOSBED_PROMETHEUS_HOST_PORT"] == "19090"


def test_the_default_compose_file_is_the_one_in_compose() -> None:
    assert default_compose_file({}).parts[-2:] == ("compose", "docker-compose.yml")


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

    def list(self, all: bool, filters: dict[str, str]) -> list[FakeContainer]:
        assert all and filters == {"label": f"{PROJECT_LABEL}={PROJECT}"}
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def get(self, container_id: str) -> FakeContainer:
        return next(c for answer in self.answers for c in answer if c.id == container_id)


class FakeImages:
    def get(self, image: str) -> object:
        return object()  # every image is there


class FakeClient:
    def __init__(self, containers: FakeContainers) -> None:
        self.containers = containers
        self.images = FakeImages()

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

    def __init__(self, tmp_path: Path, *, up: int = 0, down: int = 0) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        self.log = tmp_path / "docker.log"
        script = bin_dir / "docker"
        script.write_text(
            "#!/bin/sh\n"
            f'echo "$*" >> "{self.log}"\n'
            'case " $* " in\n'
            f'  *" up "*) echo "container {PROJECT}-catalog-1 is unhealthy"; exit {up} ;;\n'
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
        return [line.split(" -f ", 1)[1].split()[1] for line in self.log.read_text().splitlines()]


def fake_runtime(
    tmp_path: Path,
    free_port: Callable[[], int],
    docker_cli: FakeDocker,
    *answers: Sequence[FakeContainer],
) -> DockerRuntime:
    containers = FakeContainers(answers)
    return DockerRuntime(
        tmp_path / "state",
        services=tuple(replace(spec, port=free_port()) for spec in STACK),
        project=PROJECT,
        environ=docker_cli.environ,
        prometheus_port=free_port(),
        engine_factory=lambda: FakeClient(containers),
    )


@pytest.mark.parametrize("state", [RUNNING, RESTARTING, PAUSED], ids=lambda s: s["Status"])
def test_up_while_containers_run_is_refused_and_changes_nothing(
    tmp_path: Path, free_port: Callable[[], int], state: dict[str, Any]
) -> None:
    docker_cli = FakeDocker(tmp_path)
    containers = [
        FakeContainer("prometheus", state),
        FakeContainer("playback", EXITED),
        FakeContainer("catalog", state),
    ]
    runtime = fake_runtime(tmp_path, free_port, docker_cli, containers)
    with pytest.raises(AlreadyRunning) as refused:
        runtime.up()
    assert refused.value.exit_code == 5
    assert str(refused.value) == (
        f"a chaosbed stack is already running as the docker compose project {PROJECT} "
        "(running: catalog, prometheus); use `chaosbed status --runtime docker` to see it "
        "or `chaosbed down --runtime docker` to stop it"
    )
    assert docker_cli.commands() == []  # no `compose up`: nothing recreated
    assert not (tmp_path / "state" / "token").exists()  # and no new token


def test_up_brings_up_a_project_whose_containers_are_all_stopped(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    docker_cli = FakeDocker(tmp_path)
    leftovers = [FakeContainer("catalog", EXITED), FakeContainer("playback", KILLED)]
    runtime = fake_runtime(tmp_path, free_port, docker_cli, leftovers)
    runtime.up()
    assert docker_cli.commands() == ["up"]
    assert (tmp_path / "state" / "token").read_text().strip()


@pytest.mark.parametrize("down_exit", [0, 1], ids=["cleanup-ok", "cleanup-failed"])
def test_why_up_failed_is_what_the_caller_sees_even_if_the_cleanup_fails(
    tmp_path: Path, free_port: Callable[[], int], down_exit: int
) -> None:
    docker_cli = FakeDocker(tmp_path, up=1, down=down_exit)
    unhealthy = [FakeContainer("catalog", UNHEALTHY)]
    runtime = fake_runtime(tmp_path, free_port, docker_cli, [], unhealthy)
    with pytest.raises(ServiceNeverHealthy) as failed:
        runtime.up()
    assert docker_cli.commands() == ["up", "down"]
    error = failed.value
    catalog = runtime.services[0]
    assert (error.service, error.port, error.exit_code) == ("catalog", catalog.port, 5)
    message = str(error)
    assert message.startswith(f"catalog (port {catalog.port}) was not ready after ")
    assert "container running, health unhealthy" in message
    assert f"{PROJECT}-catalog-1: still warming up" in message  # its log tail
    assert isinstance(error.__cause__, ComposeFailed)
    assert error.__cause__.args_[0] == "up"
    if down_exit == 0:
        assert "Everything that was started has been stopped." in message
        assert error.cleanup_failure == ""
    else:
        assert "has been stopped" not in message
        assert "Stopping what was started failed as well" in message
        assert "run `chaosbed down`" in message
        assert message.endswith(DOWN_FAILURE)
        assert "`docker compose down --remove-orphans` failed (exit 1)" in error.cleanup_failure


# -- against the engine ----------------------------------------------------


def _compose_down() -> None:
    subprocess.run(
        ["docker", "compose", "-p", PROJECT, "-f", str(default_compose_file({})), "down", "-v"],
        env={**os.environ, "CHAOSBED_CONTROL_TOKEN": TOKEN},
        capture_output=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def engine() -> Iterator[None]:
    try:
        client = docker.from_env(version="auto")
        client.ping()
    except Exception as error:
        pytest.fail(
            f"Docker is unreachable ({error}): run `bash compose/install-docker.sh` as root",
            pytrace=False,
        )
    try:
        ensure_images(client)
    finally:
        client.close()
    yield
    _compose_down()


# A port block of its own (below the ephemeral range), so these tests never race
# a stack on the usual ports.
SPECS = tuple(replace(spec, port=spec.port + 10000) for spec in STACK)
PROMETHEUS_PORT = 19090


def runtime_for(tmp_path: Path, **kwargs: Any) -> DockerRuntime:
    environ = {**os.environ, "CHAOSBED_CONTROL_TOKEN": TOKEN}
    return DockerRuntime(
        tmp_path,
        services=SPECS,
        project=PROJECT,
        environ=environ,
        prometheus_port=PROMETHEUS_PORT,
        **kwargs,
    )


def control_status(port: int, token: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/_chaos/faults", headers={"Authorization": f"Bearer {token}"})
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.docker
def test_up_without_images_says_how_to_build_them(engine: None, tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path, images=("chaosbed/not-built:never",))
    with pytest.raises(ImagesMissing, match="build-images.sh"):
        runtime.up()
    assert runtime.down() is False


@pytest.mark.docker
def test_up_status_down(engine: None, tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path)
    statuses = runtime.up()
    assert [(s.name, s.state, s.ready) for s in statuses] == [
        (name, "running", True)
        for name in ("catalog", "profiles", "recommendations", "playback", "prometheus")
    ]
    assert (tmp_path / "token").read_text().strip() == TOKEN
    assert control_status(SPECS[0].port, TOKEN) == 200
    assert all(s.healthy and s.pid for s in runtime.status())

    assert runtime.down() is True
    assert {s.state for s in runtime.status()} == {"stopped"}
    assert runtime.down() is False


@pytest.mark.docker
def test_a_service_not_healthy_in_time_is_reported_and_the_stack_stopped(
    engine: None, tmp_path: Path
) -> None:
    runtime = runtime_for(tmp_path, ready_timeout_s=1)
    with pytest.raises(ServiceNeverHealthy, match="was not ready after"):
        runtime.up()
    assert {s.state for s in runtime.status()} == {"stopped"}


def project_containers(client: Any) -> dict[str, str]:
    """Name -> id of this test project's containers."""
    found = client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={PROJECT}"})
    return {str(c.name): str(c.id) for c in found}


@pytest.mark.docker
def test_a_second_up_is_refused_while_the_containers_run(engine: None, tmp_path: Path) -> None:
    # No token in the environment, as for most users: every `up` makes a new one.
    environ = {k: v for k, v in os.environ.items() if k != "CHAOSBED_CONTROL_TOKEN"}
    runtime = DockerRuntime(
        tmp_path, services=SPECS, project=PROJECT, environ=environ, prometheus_port=PROMETHEUS_PORT
    )
    runtime.up()
    token = (tmp_path / "token").read_text().strip()
    client = docker.from_env(version="auto")
    try:
        started = project_containers(client)
        assert len(started) == 5

        running = "catalog, profiles, recommendations, playback, prometheus"
        expected = f"already running as the docker compose project {PROJECT} (running: {running})"
        with pytest.raises(AlreadyRunning, match=re.escape(expected)) as refused:
            runtime.up()
        assert refused.value.exit_code == 5
        # Nothing changed: the same containers, the same token, still accepted.
        assert project_containers(client) == started
        assert (tmp_path / "token").read_text().strip() == token
        assert control_status(SPECS[0].port, token) == 200
        assert all(s.state == "running" and s.ready for s in runtime.status())

        # Stopped leftovers are no running stack: `up` brings them up again.
        for container in client.containers.list(filters={"label": f"{PROJECT_LABEL}={PROJECT}"}):
            container.stop(timeout=5)
        assert not any(s.state in ("running", "starting") for s in runtime.status())
        statuses = runtime.up()
        assert all(s.state == "running" and s.ready for s in statuses)
        assert control_status(SPECS[0].port, (tmp_path / "token").read_text().strip()) == 200
    finally:
        client.close()
    assert runtime.down() is True
