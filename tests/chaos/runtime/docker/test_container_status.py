"""Container state (docker inspect) in the runtimes' words: pure functions, no engine."""

from __future__ import annotations

from typing import Any

from chaos.runtime.docker.container_status import ContainerInfo, container_status, instance_state
from chaos.runtime.stack import ServiceSpec

from .support import KILLED, PAUSED, RESTARTING, RUNNING

CATALOG = ServiceSpec("catalog", "services.catalog", 8081)


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


def test_a_running_container_is_a_running_instance_with_its_host_pid() -> None:
    running = instance_state(info(RUNNING, restarts=2))
    assert (running.service, running.instance, running.state) == (
        "catalog", "chaosbed-catalog-1", "running",
    )  # fmt: skip
    assert (running.pid, running.container_id, running.restarts) == (7, "abc", 2)


def test_a_paused_container_is_a_paused_instance() -> None:
    assert instance_state(info(PAUSED)).state == "paused"


def test_exited_and_restarting_containers_are_stopped_instances_without_a_pid() -> None:
    for state in (KILLED, RESTARTING):
        stopped = instance_state(info(state))
        assert (stopped.state, stopped.pid, stopped.detail) == ("stopped", None, state["Status"])


def test_a_container_runs_the_deployed_release_its_environment_holds() -> None:
    deployed = {"CHAOSBED_MUTANT": "partial-sync-tv"}
    on_release = ContainerInfo(
        "abc",
        "chaosbed-profiles-1",
        "profiles",
        {
            "State": RUNNING,
            "Config": {"Env": ["CHAOSBED_PORT=8084", "CHAOSBED_MUTANT=partial-sync-tv"]},
        },
    )
    assert instance_state(on_release, deployed).release == (("CHAOSBED_MUTANT", "partial-sync-tv"),)
    recreated = ContainerInfo(
        "def", "chaosbed-profiles-1", "profiles", {"State": RUNNING, "Config": {"Env": []}}
    )
    assert instance_state(recreated, deployed).release == ()  # recorded, but not running it
    assert instance_state(on_release).release == ()  # nothing deployed: its own environment
