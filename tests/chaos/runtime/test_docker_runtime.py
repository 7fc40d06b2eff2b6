"""The docker runtime: status from container state, clear failures, and a real up/down.

Tests marked `docker` drive the real compose project (under its own project
name) and fail, never skip, when the engine is unreachable.
"""

from __future__ import annotations

import http.client
import os
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker
import pytest

from chaos.runtime.compose import ImagesMissing, default_compose_file
from chaos.runtime.docker import DockerRuntime
from chaos.runtime.engine import ContainerInfo, container_status
from chaos.runtime.errors import DockerUnavailable, InvalidStack, ServiceNeverHealthy
from chaos.runtime.spec import STACK, ServiceSpec
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
    assert "bash compose/build-images.sh" in message


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
