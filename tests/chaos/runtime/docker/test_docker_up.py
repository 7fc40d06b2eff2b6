"""The docker runtime's `up` and its failures, against a fake engine and a fake docker CLI:
refusals, cleanup, building missing images, interruption."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from chaos.runtime.docker import DockerRuntime, default_compose_file
from chaos.runtime.errors import (
    AlreadyRunning,
    ComposeFailed,
    DockerUnavailable,
    ImageBuildFailed,
    ImagesMissing,
    InvalidStack,
    ServiceNeverHealthy,
)
from chaos.runtime.process.host import pid_alive

from .support import (
    DOWN_FAILURE,
    EXITED,
    KILLED,
    PAUSED,
    PROJECT,
    PROMETHEUS_PORT,
    RESTARTING,
    RUNNING,
    SPECS,
    UNHEALTHY,
    FakeContainer,
    FakeDocker,
    FakeImages,
    fake_build,
    fake_runtime,
    runtime_for,
)


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
    assert runtime.compose.environ["CHAOSBED_CATALOG_HOST_PORT"] == str(SPECS[0].port)
    assert runtime.compose.environ["CHAOSBED_PROMETHEUS_HOST_PORT"] == str(PROMETHEUS_PORT)


def test_the_default_compose_file_is_the_one_in_compose() -> None:
    assert default_compose_file({}).parts[-2:] == ("compose", "docker-compose.yml")


def test_up_with_build_runs_the_build_script_when_images_are_missing(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    docker_cli = FakeDocker(tmp_path)
    script, built = fake_build(tmp_path)
    runtime = fake_runtime(
        tmp_path, free_port, docker_cli, [], images=FakeImages(built), build=True,
        build_script=script,
    )  # fmt: skip
    runtime.up()
    assert built.exists()
    assert docker_cli.commands() == ["up"]


def test_up_without_build_refuses_missing_images_and_builds_nothing(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    docker_cli = FakeDocker(tmp_path)
    script, built = fake_build(tmp_path)
    runtime = fake_runtime(
        tmp_path, free_port, docker_cli, [], images=FakeImages(built), build_script=script
    )
    with pytest.raises(ImagesMissing, match="--build"):
        runtime.up()
    assert not built.exists()
    assert docker_cli.commands() == []


def test_up_with_build_leaves_images_that_exist_alone(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    docker_cli = FakeDocker(tmp_path)
    script, built = fake_build(tmp_path)
    runtime = fake_runtime(tmp_path, free_port, docker_cli, [], build=True, build_script=script)
    runtime.up()
    assert not built.exists()


def test_a_failed_build_is_an_infrastructure_failure_and_starts_nothing(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    docker_cli = FakeDocker(tmp_path)
    script, built = fake_build(tmp_path, exit_code=3)
    runtime = fake_runtime(
        tmp_path, free_port, docker_cli, [], images=FakeImages(built), build=True,
        build_script=script,
    )  # fmt: skip
    with pytest.raises(ImageBuildFailed) as failed:
        runtime.up()
    assert failed.value.exit_code == 5
    assert f"`bash {script}` exited with 3" in str(failed.value)
    assert docker_cli.commands() == []


def test_an_interrupted_up_stops_compose_and_takes_the_project_down(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    docker_cli = FakeDocker(tmp_path, interrupt_up=True)
    runtime = fake_runtime(tmp_path, free_port, docker_cli, [])
    with pytest.raises(KeyboardInterrupt):
        runtime.up()
    assert docker_cli.commands() == ["up", "down"]
    compose_up = int(docker_cli.up_pid_file.read_text())
    assert not pid_alive(compose_up)  # stopped with its whole process group


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
        assert "down --remove-orphans` failed (exit 1)" in error.cleanup_failure


class LogsFail(FakeContainer):
    def logs(self, tail: int) -> bytes:
        raise RuntimeError("the engine went away mid-read")


def test_a_failure_to_read_why_up_failed_still_takes_the_stack_down(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    docker_cli = FakeDocker(tmp_path, up=1)
    unhealthy = [LogsFail("catalog", UNHEALTHY)]
    runtime = fake_runtime(tmp_path, free_port, docker_cli, [], unhealthy)
    with pytest.raises(ServiceNeverHealthy) as failed:
        runtime.up()
    assert docker_cli.commands() == ["up", "down"]
    assert "docker compose up failed" in str(failed.value)  # compose's own output says why
