"""The Prometheus discovery sidecar's answer for a pod list (its list through the API
and Prometheus reading it run in tests/cluster/test_stack_on_cluster.py)."""

from __future__ import annotations

from typing import Any

from chaos.runtime.cluster.discovery import targets_of


def pod(
    name: str,
    *,
    ip: str | None = "10.244.1.2",
    phase: str = "Running",
    part_of: str = "chaosbed",
    ports: tuple[tuple[str, int], ...] = (("http", 8081),),
    deleting: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "labels": {
            "app.kubernetes.io/name": name.rsplit("-", 1)[0],
            "app.kubernetes.io/part-of": part_of,
        },
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-05T18:00:00Z"
    container = {"name": "service", "ports": [{"name": n, "containerPort": p} for n, p in ports]}
    status: dict[str, Any] = {"phase": phase}
    if ip:
        status["podIP"] = ip
    return {
        "metadata": metadata,
        "spec": {"nodeName": "node-us", "containers": [container]},
        "status": status,
    }


def test_a_running_pod_is_a_target_of_its_service_with_its_pod_and_node() -> None:
    assert targets_of([pod("catalog-x1")]) == [
        {
            "targets": ["10.244.1.2:8081"],
            "labels": {"job": "catalog", "pod": "catalog-x1", "node": "node-us"},
        }
    ]


def test_pods_that_cannot_be_scraped_are_left_out() -> None:
    pods = [
        pod("catalog-pending", ip=None, phase="Pending"),
        pod("catalog-failed", phase="Failed"),
        pod("catalog-leaving", deleting=True),
        pod("prometheus-x", part_of="chaosbed-monitoring", ports=(("http", 9090),)),
        pod("sidecar-x", ports=(("discovery", 9097),)),
    ]
    assert targets_of(pods) == []


def test_the_groups_are_sorted_by_pod_whatever_the_lists_order() -> None:
    pods = [
        pod("playback-b", ip="10.244.2.3"),
        pod("catalog-a"),
        pod("playback-a", ip="10.244.3.4"),
    ]
    assert [group["labels"]["pod"] for group in targets_of(pods)] == [
        "catalog-a",
        "playback-a",
        "playback-b",
    ]
