"""`Engine.pause` asks again while the kernel's freezer cannot freeze the container
yet ("unable to freeze", seen once in CI on a replica writing its database), and
gives up at once on any other error or after FREEZE_TRIES. No engine: a stand-in
for the SDK's container."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from chaos.runtime.docker.engine import FREEZE_TRIES, Engine

UNABLE = "OCI runtime pause failed: unable to freeze: unknown"


class Containers:
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        self.tries = 0

    def get(self, container_id: str) -> Any:
        return self

    def pause(self) -> None:
        self.tries += 1
        if self.errors:
            raise docker.errors.APIError(self.errors.pop(0))


class Client:
    def __init__(self, errors: list[str]) -> None:
        self.containers = Containers(errors)


def test_a_freeze_that_fails_for_a_moment_is_asked_again() -> None:
    client = Client([UNABLE, UNABLE])
    Engine(client).pause("c")
    assert client.containers.tries == 3


def test_other_errors_and_a_freeze_that_never_takes_are_raised() -> None:
    other = Client(["No such container: c"])
    with pytest.raises(docker.errors.APIError, match="No such container"):
        Engine(other).pause("c")
    assert other.containers.tries == 1
    never = Client([UNABLE] * (FREEZE_TRIES + 1))
    with pytest.raises(docker.errors.APIError, match="unable to freeze"):
        Engine(never).pause("c")
    assert never.containers.tries == FREEZE_TRIES
