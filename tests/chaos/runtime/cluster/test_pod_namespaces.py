"""Which pods' namespaces the cluster's network faults act in, from a scripted pod list
and node states: every pod the API says runs on a node that is up, by its uid, with
its pod and Service addresses (the real nodes, and the helper pods that enter the
namespaces: tests/cluster/test_stack_on_cluster.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chaos.runtime.cluster.netns import PodNamespaces
from chaos.runtime.cluster.nodes import ClusterLayout
from chaos.runtime.cluster.runtime import PROMETHEUS
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
class Nodes:
    """Each node container's state."""

    states: dict[str, str] = field(default_factory=dict)

    def state(self, name: str) -> str:
        return self.states.get(name, "running")


def namespaces(pods: list[dict[str, Any]], nodes: Nodes) -> PodNamespaces:
    return PodNamespaces(
        Runtime(Cluster(pods)),  # type: ignore[arg-type]
        PROMETHEUS,
        node_state=nodes.state,
    )


PODS = [
    pod("catalog-a", "cb-us", "10.244.1.2"),
    pod("catalog-b", "cb-eu", "10.244.2.2"),
    pod("playback-a", "cb-eu", "10.244.2.3"),
    pod("prometheus-x", "cb-us", "10.244.1.9"),
]


async def test_every_running_pod_by_its_uid_with_its_node_and_both_addresses() -> None:
    found = await namespaces(PODS, Nodes()).all()
    assert [(ns.container, ns.container_id, ns.host, ns.addresses, ns.port) for ns in found] == [
        ("catalog-a", "uid-catalog-a", "cb-us", ("10.244.1.2", "10.96.0.10"), 8081),
        ("catalog-b", "uid-catalog-b", "cb-eu", ("10.244.2.2", "10.96.0.10"), 8081),
        ("playback-a", "uid-playback-a", "cb-eu", ("10.244.2.3", "10.96.0.20"), 8083),
        ("prometheus-x", "uid-prometheus-x", "cb-us", ("10.244.1.9", "10.96.0.9"), 9090),
    ]


async def test_a_node_that_is_down_has_no_namespaces_and_a_pod_being_deleted_none() -> None:
    nodes = Nodes({"cb-eu": "exited"})
    pods = [*PODS[:1], pod("catalog-c", "cb-us", "10.244.1.5", deleting=True), *PODS[1:]]
    found = await namespaces(pods, nodes).all()
    assert [ns.container for ns in found] == ["catalog-a", "prometheus-x"]


async def test_a_pod_not_running_or_without_an_address_or_on_no_node_of_ours_has_none() -> None:
    pending = pod("catalog-p", "cb-us", "")
    stranger = pod("catalog-s", "elsewhere", "10.1.1.1")
    done = pod("catalog-d", "cb-us", "10.244.1.7")
    done["status"]["phase"] = "Succeeded"
    found = await namespaces([pending, stranger, done, *PODS[:1]], Nodes()).all()
    assert [ns.container for ns in found] == ["catalog-a"]
