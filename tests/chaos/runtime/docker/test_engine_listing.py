"""The engine's listing of a project's containers against the real engine, while one
of them goes: a container removed between the list and its inspection (a deploy
recreating it, compose replacing it) is left out, not an error that fails the run
(found in a clean-clone run: a game day's deploy rollback beside a snapshot)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from chaos.runtime.docker.engine import PROJECT_LABEL, Engine
from tests.compose.compose_support import docker_client_or_fail

HELPER_IMAGE = "chaosbed/net-helper:bookworm"


@pytest.fixture
def client() -> Iterator[Any]:
    client = docker_client_or_fail()
    project = f"chaosbed-listing-{uuid.uuid4().hex[:8]}"
    client.chaosbed_project = project
    try:
        yield client
    finally:
        for container in client.containers.list(
            all=True, sparse=True, filters={"label": f"{PROJECT_LABEL}={project}"}
        ):
            container.remove(force=True)
        client.close()


@pytest.mark.docker
def test_a_container_removed_while_the_project_is_listed_is_left_out(client: Any) -> None:
    project = client.chaosbed_project
    names = [f"{project}-{which}" for which in ("going", "staying")]
    for name in names:
        client.containers.create(
            HELPER_IMAGE, ["sleep", "60"], name=name, labels={PROJECT_LABEL: project}
        )
    listed = client.api.containers

    def listed_then_one_removed(*args: Any, **kwargs: Any) -> Any:
        found = listed(*args, **kwargs)
        client.api.remove_container(names[0], force=True)  # gone before its inspection
        return found

    client.api.containers = listed_then_one_removed
    try:
        infos = Engine(client).containers(project)
    finally:
        client.api.containers = listed
    assert [info.name for info in infos] == [names[1]]
