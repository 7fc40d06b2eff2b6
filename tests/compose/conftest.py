"""Fixtures of the container tests: a Docker engine (or a clear failure), images, the stack.

The stack is the real compose project (compose/docker-compose.yml) under the
project name `chaosbed-test`, brought up once per module and always torn
down with `down -v`. Images are (re)built with compose/build-images.sh, which
reuses cached base images and layers, unless CHAOSBED_REUSE_IMAGES=1.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.compose.compose_support import (
    HOST_PORTS,
    PROMETHEUS_PORT,
    PROMETHEUS_URL,
    Compose,
    docker_client_or_fail,
    ensure_images,
    wait_for,
)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    client = docker_client_or_fail()
    yield client
    client.close()


@pytest.fixture(scope="session")
def images(docker_client: Any) -> tuple[str, ...]:
    return ensure_images(docker_client)


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def stack(images: tuple[str, ...]) -> Iterator[Compose]:
    compose = Compose()
    compose.run("down", "-v", "--remove-orphans", timeout_s=120, check=False)
    ports = (*HOST_PORTS.values(), PROMETHEUS_PORT)
    # Bounded wait: processes of an earlier test (or a teammate's stack) may be exiting.
    wait_for(lambda: not any(_port_taken(port) for port in ports), timeout_s=60)
    taken = [port for port in ports if _port_taken(port)]
    if taken:
        pytest.fail(
            f"ports {taken} on 127.0.0.1, where the test stack publishes its services, "
            "are in use (a test stack left over? `docker compose -p chaosbed-test "
            "-f compose/docker-compose.yml down -v`)",
            pytrace=False,
        )
    try:
        try:
            compose.run(
                "up", "--detach", "--wait", "--wait-timeout", "180", "--no-build",
                "--pull", "never", timeout_s=300,
            )  # fmt: skip
        except AssertionError as error:
            pytest.fail(f"{error}\n\ncontainer logs:\n{compose.logs()}", pytrace=False)
        yield compose
    finally:
        compose.run("down", "-v", "--remove-orphans", timeout_s=180, check=False)


@pytest.fixture(scope="module")
def prometheus_url(stack: Compose) -> str:
    return PROMETHEUS_URL
