"""The docker runtime against the real engine: up, status, down, refusals.

Tests marked `docker` drive the real compose project (under its own project
name) and fail, never skip, when the engine is unreachable.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from chaos.project import PROJECT_ROOT
from chaos.runtime.docker import DockerRuntime, default_compose_file
from chaos.runtime.docker.engine import PROJECT_LABEL
from chaos.runtime.errors import (
    AlreadyRunning,
    ImagesMissing,
    ServiceNeverHealthy,
)
from tests.compose.compose_support import require_docker_images

from .support import PROJECT, PROMETHEUS_PORT, SPECS, TOKEN, runtime_for

# -- against the engine ----------------------------------------------------

#: Every container of the stack, in the order the runtime lists them.
STACK_NAMES = (*(spec.name for spec in SPECS), "prometheus")


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
    require_docker_images()
    yield
    _compose_down()


# A port block of its own (below the ephemeral range), so these tests never race
# a stack on the usual ports.
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
def test_up_status_down(engine: None, tmp_path: Path, eventually: Callable[..., None]) -> None:
    runtime = runtime_for(tmp_path)
    statuses = runtime.up()
    assert [(s.name, s.state, s.ready) for s in statuses] == [
        (name, "running", True) for name in STACK_NAMES
    ]
    assert (tmp_path / "token").read_text().strip() == TOKEN
    assert control_status(SPECS[0].port, TOKEN) == 200
    # each status probes healthz once: a probe a busy machine answers late is no error
    eventually(lambda: all(s.healthy and s.pid for s in runtime.status()), timeout_s=15)

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
    """Name -> id of this test project's containers.

    Sparse: one list call and no inspect per container, which would race a
    container that compose removes in between (NotFound)."""
    label = {"label": f"{PROJECT_LABEL}={PROJECT}"}
    found = client.containers.list(all=True, filters=label, sparse=True)
    return {str(c.attrs["Names"][0]).lstrip("/"): str(c.id) for c in found}


@pytest.mark.docker
def test_a_second_up_is_refused_while_the_containers_run(
    engine: None, tmp_path: Path, eventually: Callable[..., None]
) -> None:
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
        assert len(started) == len(STACK_NAMES)

        running = ", ".join(STACK_NAMES)
        expected = f"already running as the docker compose project {PROJECT} (running: {running})"
        with pytest.raises(AlreadyRunning, match=re.escape(expected)) as refused:
            runtime.up()
        assert refused.value.exit_code == 5
        # Nothing changed: the same containers, the same token, still accepted.
        assert project_containers(client) == started
        assert (tmp_path / "token").read_text().strip() == token
        assert control_status(SPECS[0].port, token) == 200
        eventually(
            lambda: all(s.state == "running" and s.ready for s in runtime.status()), timeout_s=15
        )

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


@pytest.mark.docker
def test_ctrl_c_during_up_leaves_no_container(engine: None, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the process group) once compose has created the containers."""
    up = subprocess.Popen(
        [sys.executable, "-m", "tests.chaos.runtime.docker.interrupted_up", str(tmp_path)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    client = docker.from_env(version="auto")
    try:
        deadline = time.monotonic() + 120
        while not project_containers(client):
            assert up.poll() is None, up.communicate()
            assert time.monotonic() < deadline, "compose created no container within 120s"
            time.sleep(0.1)
        os.killpg(up.pid, signal.SIGINT)
        _, err = up.communicate(timeout=180)
        assert up.returncode == 130, err
        assert "chaosbed: interrupted (SIGINT)" in err
        assert project_containers(client) == {}
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()
        client.close()
