"""Fixtures for the process runtime tests: tiny stacks on free ports, always torn down."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chaos.runtime import ProcessRuntime, RestartPolicy, ServiceSpec
from chaos.runtime.process import PrometheusOptions

TINY = "tests.chaos.runtime.process.tiny_service"
FAST_POLICY = RestartPolicy(
    backoff_initial_s=0.05, backoff_max_s=0.2, max_restarts=3, window_s=30.0, stop_grace_s=2.0
)

MakeRuntime = Callable[..., ProcessRuntime]


@pytest.fixture
def tiny_module() -> str:
    """The module of the tiny test service."""
    return TINY


@pytest.fixture
def tiny_stack(free_port: Callable[[], int]) -> tuple[ServiceSpec, ...]:
    """Two tiny services: alpha, and beta depending on it."""
    return (
        ServiceSpec("alpha", TINY, free_port()),
        ServiceSpec("beta", TINY, free_port(), ("alpha",)),
    )


@pytest.fixture
def make_runtime(tmp_path: Path, tiny_stack: tuple[ServiceSpec, ...]) -> Iterator[MakeRuntime]:
    """Build process runtimes (default: the tiny stack in tmp_path/state, no Prometheus);
    all downed after."""
    made: list[ProcessRuntime] = []

    def make(
        state_dir: Path | None = None,
        services: tuple[ServiceSpec, ...] | None = None,
        *,
        ready_timeout_s: float = 20.0,
        prometheus: PrometheusOptions | None = None,
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
            prometheus=prometheus,
        )
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.down()


@pytest.fixture
def runtime(make_runtime: MakeRuntime) -> ProcessRuntime:
    return make_runtime()
