"""Process-layer faults on the real compose project's containers (marker `docker`).

One stack for the module; each test leaves every container running again.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.runtime.docker import DockerRuntime, default_compose_file
from chaos.runtime.errors import InstanceActionFailed, UnknownService
from chaos.runtime.health import probe
from chaos.runtime.interface import InstanceState
from tests.compose.compose_support import require_docker_images

from .support import PROJECT, SPECS, TOKEN, runtime_for

pytestmark = pytest.mark.docker

CATALOG = f"{PROJECT}-catalog-1"
CATALOG_PORT = SPECS[0].port


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerRuntime]:
    require_docker_images()
    runtime = runtime_for(tmp_path_factory.mktemp("docker-instances"), stop_grace_s=5.0)
    try:
        runtime.up()
        yield runtime
    finally:
        subprocess.run(
            ["docker", "compose", "-p", PROJECT, "-f", str(default_compose_file({})), "down", "-v"],
            env={**os.environ, "CHAOSBED_CONTROL_TOKEN": TOKEN},
            capture_output=True,
            timeout=180,
            check=False,
        )


def catalog(stack: DockerRuntime) -> InstanceState:
    (found,) = asyncio.run(stack.instances("catalog"))
    return found


def wait_for(stack: DockerRuntime, what: str, check: object, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not check(catalog(stack)):  # type: ignore[operator]
        if time.monotonic() >= deadline:
            raise AssertionError(f"catalog {what}: not within {timeout_s}s ({catalog(stack)})")
        time.sleep(0.2)


def ready_again(stack: DockerRuntime) -> None:
    wait_for(stack, "running", lambda now: now.state == "running")
    deadline = time.monotonic() + 60
    while not probe(CATALOG_PORT, "/readyz").ok:
        assert time.monotonic() < deadline, "catalog not ready again within 60s"
        time.sleep(0.2)


def test_instances_are_the_containers_with_their_ids_and_host_pids(
    stack: DockerRuntime,
) -> None:
    instances = asyncio.run(stack.instances())
    assert [(i.service, i.instance, i.state) for i in instances] == [
        (spec.name, f"{PROJECT}-{spec.name}-1", "running") for spec in SPECS
    ]
    assert all(i.container_id and i.pid for i in instances)


def test_kill_crashes_the_main_process_and_the_restart_policy_brings_it_back(
    stack: DockerRuntime,
) -> None:
    before = asyncio.run(stack.kill(CATALOG))
    wait_for(stack, "restarted", lambda now: now.restarts == before.restarts + 1)
    ready_again(stack)
    after = catalog(stack)
    assert after.container_id == before.container_id and after.pid != before.pid


def test_hold_keeps_the_container_down_until_started(stack: DockerRuntime) -> None:
    asyncio.run(stack.hold(CATALOG))
    time.sleep(2)  # the restart policy would have acted by now
    assert catalog(stack).state == "stopped"
    assert not probe(CATALOG_PORT, "/healthz").ok
    assert asyncio.run(stack.ready("catalog")) is False
    asyncio.run(stack.start(CATALOG))
    ready_again(stack)


def test_ready_is_the_readiness_of_one_service(stack: DockerRuntime) -> None:
    assert asyncio.run(stack.ready("catalog")) is True
    with pytest.raises(UnknownService, match="no service called 'nope'"):
        asyncio.run(stack.ready("nope"))


def test_stop_and_start(stack: DockerRuntime) -> None:
    asyncio.run(stack.stop(CATALOG))
    assert catalog(stack).state == "stopped"
    asyncio.run(stack.start(CATALOG))
    ready_again(stack)


def test_pause_freezes_the_container_and_unpause_thaws_it(stack: DockerRuntime) -> None:
    asyncio.run(stack.pause(CATALOG))
    try:
        assert catalog(stack).state == "paused"
        assert not probe(CATALOG_PORT, "/healthz", timeout_s=0.5).ok
        with pytest.raises(InstanceActionFailed, match="not running"):
            asyncio.run(stack.kill(CATALOG))
    finally:
        asyncio.run(stack.unpause(CATALOG))
    assert catalog(stack).state == "running"
    deadline = time.monotonic() + 5  # it answers (a busy machine may take over a second)
    while not probe(CATALOG_PORT, "/healthz").ok:
        assert time.monotonic() < deadline, "catalog does not answer 5s after the unpause"
        time.sleep(0.2)


def test_restart_gives_a_new_main_process(stack: DockerRuntime) -> None:
    before = asyncio.run(stack.restart(CATALOG))
    ready_again(stack)
    assert catalog(stack).pid != before.pid


def test_an_unknown_instance_names_the_containers(stack: DockerRuntime, tmp_path: Path) -> None:
    with pytest.raises(UnknownService, match=f"no instance called 'nope'.*{CATALOG}"):
        asyncio.run(stack.kill("nope"))
