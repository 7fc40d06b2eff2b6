"""Fixtures for the runtime tests: tiny stacks on free ports, always torn down."""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chaos.runtime import ProcessRuntime, RestartPolicy, ServiceSpec

TINY = "tests.chaos.runtime.tiny_service"
FAST_POLICY = RestartPolicy(
    backoff_initial_s=0.05, backoff_max_s=0.2, max_restarts=3, window_s=30.0, stop_grace_s=2.0
)

MakeRuntime = Callable[..., ProcessRuntime]


def _free_port(taken: set[int]) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


@pytest.fixture
def tiny_module() -> str:
    """The module of the tiny test service."""
    return TINY


@pytest.fixture
def free_port() -> Callable[[], int]:
    """A function returning a distinct free ephemeral port on each call."""
    taken: set[int] = set()
    return lambda: _free_port(taken)


@pytest.fixture
def tiny_stack(free_port: Callable[[], int]) -> tuple[ServiceSpec, ...]:
    """Two tiny services: alpha, and beta depending on it."""
    return (
        ServiceSpec("alpha", TINY, free_port()),
        ServiceSpec("beta", TINY, free_port(), ("alpha",)),
    )


@pytest.fixture
def make_runtime(tmp_path: Path, tiny_stack: tuple[ServiceSpec, ...]) -> Iterator[MakeRuntime]:
    """Build process runtimes (default: the tiny stack in tmp_path/state); all downed after."""
    made: list[ProcessRuntime] = []

    def make(
        state_dir: Path | None = None,
        services: tuple[ServiceSpec, ...] | None = None,
        *,
        ready_timeout_s: float = 20.0,
        **env: str,
    ) -> ProcessRuntime:
        environ = {k: v for k, v in os.environ.items() if k != "CHAOSBED_CONTROL_TOKEN"}
        environ.update(env)
        runtime = ProcessRuntime(
            state_dir or tmp_path / "state",
            services=services or tiny_stack,
            policy=FAST_POLICY,
            ready_timeout_s=ready_timeout_s,
            environ=environ,
        )
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.down()


@pytest.fixture
def runtime(make_runtime: MakeRuntime) -> ProcessRuntime:
    return make_runtime()


def _eventually(check: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true within {timeout_s}s: {what or check}")
        time.sleep(0.05)


@pytest.fixture
def eventually() -> Callable[..., None]:
    """Poll a check until it is true, failing after a deadline."""
    return _eventually


@pytest.fixture
def get_json() -> Callable[[int, str], Any]:
    """GET http://127.0.0.1:<port><path> and parse the JSON answer (no proxies)."""

    def get(port: int, path: str) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", path)
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()

    return get
