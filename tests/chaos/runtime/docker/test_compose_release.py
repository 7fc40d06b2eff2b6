"""How the docker runtime recreates one container on a release: the compose command."""

from __future__ import annotations

from pathlib import Path

from chaos.runtime.docker.compose_project import ComposeProject


def test_a_release_file_is_merged_over_the_project_file() -> None:
    project = ComposeProject(
        Path("/c/docker-compose.yml"),
        "chaosbed-31000",
        {},
        (Path("/s/release/profiles.compose.json"),),
    )
    assert project.command("up", "--no-deps", "profiles") == [
        "docker", "compose", "-p", "chaosbed-31000",
        "-f", "/c/docker-compose.yml", "-f", "/s/release/profiles.compose.json",
        "up", "--no-deps", "profiles",
    ]  # fmt: skip


def test_without_a_release_only_the_project_file() -> None:
    project = ComposeProject(Path("/c/docker-compose.yml"), "chaosbed", {})
    assert project.command("ps") == [
        "docker", "compose", "-p", "chaosbed", "-f", "/c/docker-compose.yml", "ps",
    ]  # fmt: skip
