"""Which pods' namespaces the cluster's network faults act in, from a scripted pod list
and node engines: every pod the API says runs, with its pod and Service addresses,
and an error, never a pod left out, when its node is up but cannot say where its
sandbox is (the real nodes: tests/cluster/test_stack_on_cluster.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from chaos.runtime.cluster.netns import PodNamespaces
from chaos.runtime.cluster.nodes import ClusterLayout, Node
from chaos.runtime.cluster.runtime import PROMETHEUS
from chaos.runtime.errors import DockerUnavailable, InstanceActionFailed
from chaos.runtime.stack import STACK

LAYOUT = ClusterLayout("cb")
SERVICE_ADDRESSES = {"catalog": "10.96.0.10", "playback": "10.96.0.20", "prometheus": "10.96.0.9"}


def pod(name: str, node: str, ip: str, *, deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}",
        "labels": {"app.kubernetes.io/name": name.rsplit("-", 1)[0]},
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-05T18:00:00Z"
    return {
        "metadata": metadata,
        "spec": {"nodeName": node},
        "status": {"phase": "Running", "podIP": ip},
    }


@dataclass
class Cluster:
    listed: list[dict[str, Any]]

    def pods(self) -> list[dict[str, Any]]:
        return self.listed


@dataclass
class Runtime:
    cluster: Cluster
    services: tuple[Any, ...] = STACK
    layout: ClusterLayout = LAYOUT

    def service_address(self, service: str) -> str:
        return SERVICE_ADDRESSES[service]


@dataclass
class Engines:
    """Each node's state and its engine's sandboxes (pod uid -> sandbox id)."""

    states: dict[str, str] = field(default_factory=dict)
    sandboxes: dict[str, dict[str, str]] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)

    def state(self, name: str) -> str:
        return self.states.get(name, "running")

    def listed(self, node: Node) -> dict[str, str]:
        if node.container in self.unreachable:
            raise DockerUnavailable("connection refused: is dockerd running?")
        return self.sandboxes.get(node.container, {})


def namespaces(pods: list[dict[str, Any]], engines: Engines) -> PodNamespaces:
    return PodNamespaces(
        Runtime(Cluster(pods)),  # type: ignore[arg-type]
        PROMETHEUS,
        node_state=engines.state,
        sandboxes=engines.listed,
    )


PODS = [
    pod("catalog-a", "cb-us", "10.244.1.2"),
    pod("catalog-b", "cb-eu", "10.244.2.2"),
    pod("playback-a", "cb-eu", "10.244.2.3"),
    pod("prometheus-x", "cb-us", "10.244.1.9"),
]


def engines_with_every_sandbox() -> Engines:
    return Engines(
        sandboxes={
            "cb-us": {"uid-catalog-a": "s-cat-a", "uid-prometheus-x": "s-prom"},
            "cb-eu": {"uid-catalog-b": "s-cat-b", "uid-playback-a": "s-play-a"},
        }
    )


async def test_every_running_pod_has_its_sandbox_its_node_and_both_addresses() -> None:
    found = await namespaces(PODS, engines_with_every_sandbox()).all()
    assert [(ns.container, ns.container_id, ns.host, ns.addresses, ns.port) for ns in found] == [
        ("catalog-a", "s-cat-a", "cb-us", ("10.244.1.2", "10.96.0.10"), 8081),
        ("catalog-b", "s-cat-b", "cb-eu", ("10.244.2.2", "10.96.0.10"), 8081),
        ("playback-a", "s-play-a", "cb-eu", ("10.244.2.3", "10.96.0.20"), 8083),
        ("prometheus-x", "s-prom", "cb-us", ("10.244.1.9", "10.96.0.9"), 9090),
    ]


async def test_a_node_that_is_down_has_no_namespaces_and_a_pod_being_deleted_none() -> None:
    engines = engines_with_every_sandbox()
    engines.states["cb-eu"] = "exited"
    pods = [*PODS[:1], pod("catalog-c", "cb-us", "10.244.1.5", deleting=True), *PODS[1:]]
    found = await namespaces(pods, engines).all()
    assert [ns.container for ns in found] == ["catalog-a", "prometheus-x"]


async def test_a_node_up_whose_engine_does_not_answer_is_an_error_not_a_gap() -> None:
    engines = engines_with_every_sandbox()
    engines.unreachable.add("cb-eu")
    with pytest.raises(InstanceActionFailed, match="cb-eu.*connection refused"):
        await namespaces(PODS, engines).all()


async def test_a_running_pod_without_its_sandbox_is_an_error_not_a_gap() -> None:
    engines = engines_with_every_sandbox()
    # the sandbox of an earlier pod of the same name (a StatefulSet's replacement)
    engines.sandboxes["cb-eu"] = {"uid-catalog-b-earlier": "s-old", "uid-playback-a": "s-play-a"}
    with pytest.raises(InstanceActionFailed, match="catalog-b.*runs no sandbox of it"):
        await namespaces(PODS, engines).all()
