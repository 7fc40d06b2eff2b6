"""The recording rules and alerts, unit-tested with promtool inside the prometheus image."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compose.compose_support import REPO

pytestmark = pytest.mark.docker


def promtool(docker_client: Any, *args: str) -> str:
    output = docker_client.containers.run(
        "chaosbed/prometheus:latest",
        list(args),
        entrypoint="promtool",
        volumes={str(REPO / "compose" / "prometheus"): {"bind": "/rules", "mode": "ro"}},
        remove=True,
        stderr=True,
    )
    return bytes(output).decode()


def test_recording_rules_compute_the_slis_and_burn_rates(
    images: tuple[str, ...], docker_client: Any
) -> None:
    assert "SUCCESS" in promtool(docker_client, "test", "rules", "/rules/tests/slis_test.yml")


def test_rule_files_are_valid(images: tuple[str, ...], docker_client: Any) -> None:
    output = promtool(
        docker_client, "check", "rules", "/rules/rules/slis.yml", "/rules/rules/alerts.yml"
    )
    assert output.count("SUCCESS") == 2
