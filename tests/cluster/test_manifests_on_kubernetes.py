"""The Kubernetes manifests against a real control plane (Kubernetes 1.20 built by
cluster/kubernetes/build.sh): the API server validates every object, and the
scheduler places the pods by the manifests' rules onto three nodes, one per
region. The nodes are registered through the API (no kubelet: the pods are
scheduled, not run)."""

from __future__ import annotations

import copy
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos.runtime.cluster.control_plane import (
    ControlPlane,
    ControlPlanePorts,
    kubernetes_bin,
)
from services.topology import PROFILES_REPLICAS, SERVICES
from tests.waiting import until

pytestmark = pytest.mark.kubernetes

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "cluster" / "kubernetes" / "chaosbed.yaml"
VOLUMES = REPO / "cluster" / "kubernetes" / "local-volumes.yaml"
AGENT = REPO / "cluster" / "kubernetes" / "node-agent.yaml"
REGION = "chaosbed.io/region"
PODS = "/api/v1/namespaces/chaosbed/pods"
#: How long and how often the waits ask the API (a blocking call each).
POLL: dict[str, float] = {"timeout_s": 60.0, "every_s": 0.25}


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    ports = ControlPlanePorts(*free_ports(3))
    work = tmp_path_factory.mktemp("control-plane")
    # no node lifecycle controller: nodes without a kubelet keep the Ready they are given
    with ControlPlane(
        kubernetes_bin(), work, ports, controllers="*,-nodeipam,-nodelifecycle"
    ) as started:
        yield started
    assert not started.running()


async def register_node(plane: ControlPlane, region: str) -> str:
    name = f"node-{region}"
    labels = {REGION: region, "kubernetes.io/hostname": name}
    plane.api("POST", "/api/v1/nodes", {"metadata": {"name": name, "labels": labels}})
    resources = {"cpu": "2", "memory": "4Gi", "pods": "110"}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }
    status = {"capacity": resources, "allocatable": resources, "conditions": [ready]}
    plane.api("PATCH", f"/api/v1/nodes/{name}/status", {"status": status}, patch=True)
    # a new node comes with the not-ready taint (admission), which the node lifecycle
    # controller lifts once the kubelet says Ready; there is no kubelet here
    plane.api("PATCH", f"/api/v1/nodes/{name}", {"spec": {"taints": None}}, patch=True)
    await seen_by_scheduler(plane, name)
    return name


async def seen_by_scheduler(plane: ControlPlane, node: str) -> None:
    """Until the scheduler places a pod on `node`: its view of the node is then the
    API's (a soft spread decided on a stale view would not spread)."""
    probe = {
        "metadata": {"name": f"probe-{node}"},
        "spec": {
            "nodeSelector": {"kubernetes.io/hostname": node},
            "containers": [{"name": "probe", "image": "chaosbed/service:latest"}],
        },
    }
    pods = "/api/v1/namespaces/default/pods"
    plane.api("POST", pods, probe)
    await until(
        lambda: plane.api("GET", f"{pods}/probe-{node}")["spec"].get("nodeName") == node,
        what=f"a probe pod scheduled on {node}",
        **POLL,
    )
    plane.api("DELETE", f"{pods}/probe-{node}?gracePeriodSeconds=0")


def pods(plane: ControlPlane) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = plane.api("GET", PODS)["items"]
    return found


def namespace_of(path: Path) -> dict[str, Any]:
    return next(d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "Namespace")


def owner(pod: dict[str, Any]) -> str:
    return str(pod["metadata"]["labels"]["app.kubernetes.io/name"])


def test_the_api_server_accepts_every_object_and_refuses_a_broken_one(
    plane: ControlPlane, tmp_path: Path
) -> None:
    # a dry run creates nothing, so the objects in the namespace need it for real
    plane.kubectl("apply", "-f", "-", input=yaml.safe_dump(namespace_of(STACK)))
    done = plane.kubectl("apply", "--dry-run=server", "-o", "name", "-f", str(STACK))
    applied = set(done.stdout.split())
    documents = [d for d in yaml.safe_load_all(STACK.read_text()) if d]
    assert len(applied) == len(documents), done.stdout
    assert "statefulset.apps/profiles-eu" in applied

    # the same check refuses what a cluster refuses: a port no container can have
    broken = copy.deepcopy(next(d for d in documents if d["kind"] == "Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 70000
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    refused = plane.kubectl("apply", "--dry-run=server", "-f", str(path), check=False)
    assert refused.returncode != 0
    assert "containerPort" in refused.stderr

    # the node agents' DaemonSet, not generated, checked the same way
    done = plane.kubectl("apply", "--dry-run=server", "-o", "name", "-f", str(AGENT))
    assert done.stdout.split() == ["daemonset.apps/chaosbed-node-agent"]


async def test_each_replica_lands_on_its_regions_node_and_the_others_spread(
    plane: ControlPlane,
) -> None:
    await register_node(plane, "us")
    await register_node(plane, "eu")  # no node in apac yet
    plane.kubectl("apply", "-f", str(VOLUMES))
    plane.kubectl("apply", "-f", str(STACK))
    stateless = [s.name for s in SERVICES.values() if s.region is None]
    wanted = len(PROFILES_REPLICAS) + 2 * len(stateless) + 1  # and Prometheus

    def scheduled() -> bool:
        found = pods(plane)
        placed = [p for p in found if p["spec"].get("nodeName")]
        return len(found) == wanted and len(placed) == wanted - 1

    await until(scheduled, what="every pod but the apac replica's scheduled", **POLL)
    apac = PROFILES_REPLICAS["apac"]

    def unschedulable() -> str | None:
        pod = plane.api("GET", f"{PODS}/{apac}-0")
        conditions = pod["status"].get("conditions", [])
        reasons = [c for c in conditions if c["type"] == "PodScheduled" and c["status"] == "False"]
        return reasons[0].get("message") if reasons else None

    # its node selector (not only its volume's node affinity: that one binds only
    # where volumes are local) keeps it off the other regions' nodes
    # ("didn't match Pod's node affinity" in 1.20, "... node affinity/selector" later);
    # a first attempt may find its claim not bound yet ("unbound immediate
    # PersistentVolumeClaims"), a later one the selector
    selector = re.compile(r"2 node\(s\) didn't match (Pod's )?node (affinity|selector)")
    await until(
        lambda: selector.search(unschedulable() or "") is not None,
        what=f"{apac}-0 unschedulable for its node selector",
        **POLL,
    )

    await register_node(plane, "apac")
    await until(
        lambda: plane.api("GET", f"{PODS}/{apac}-0")["spec"].get("nodeName"),
        what=f"{apac}-0 scheduled once a node is in apac",
        **POLL,
    )

    placed = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in pods(plane)}
    for region, replica in PROFILES_REPLICAS.items():
        assert placed[f"{replica}-0"] == f"node-{region}"
        claim = plane.api(
            "GET", f"/api/v1/namespaces/chaosbed/persistentvolumeclaims/data-{replica}-0"
        )
        assert claim["status"]["phase"] == "Bound"
        assert claim["spec"]["volumeName"] == f"chaosbed-{replica}"
    for service in stateless:
        nodes = [p["spec"]["nodeName"] for p in pods(plane) if owner(p) == service]
        assert len(nodes) == 2 and len(set(nodes)) == 2, (service, placed)


RUNNER_RBAC = REPO / "cluster" / "kubernetes" / "runner-rbac.yaml"
RUNNER = "system:serviceaccount:chaosbed:chaosbed-runner"


def test_the_runner_may_do_what_its_faults_need_and_nothing_else(plane: ControlPlane) -> None:
    """runner-rbac.yaml, applied for real: what the runner's cluster faults and cleanup
    ask of the API is allowed (the one-machine cluster's suite runs them all as this
    account), and what they do not ask is not: no secrets, no workloads, no other
    namespace, no node deletion."""
    plane.kubectl("apply", "-f", "-", input=yaml.safe_dump(namespace_of(STACK)))
    plane.kubectl("apply", "-f", str(RUNNER_RBAC))

    def may(verb: str, resource: str, namespace: str | None = "chaosbed") -> bool:
        where = ["-n", namespace] if namespace else []
        # `can-i get pods/x` asks about a pod named x: a subresource has its own flag
        kind, _, sub = resource.partition("/")
        subresource = [f"--subresource={sub}"] if sub else []
        done = plane.kubectl(
            "auth", "can-i", verb, kind, *subresource, "--as", RUNNER, *where, check=False
        )
        return done.stdout.strip() == "yes"

    allowed = [
        ("list", "pods"), ("get", "pods"), ("create", "pods"), ("delete", "pods"),
        ("create", "pods/eviction"), ("get", "services"), ("get", "pods/proxy"),
        ("get", "services/proxy"), ("create", "services/proxy"),
    ]  # fmt: skip
    assert [a for a in allowed if not may(*a)] == []
    assert may("patch", "nodes", None) and may("list", "nodes", None)
    denied = [
        ("get", "secrets"), ("create", "deployments"), ("delete", "statefulsets"),
        ("patch", "services"), ("create", "rolebindings"), ("update", "pods"),
        ("create", "pods/proxy"), ("create", "pods/exec"), ("get", "services/status"),
    ]  # fmt: skip
    assert [d for d in denied if may(*d)] == []
    assert not may("create", "pods", "kube-system")
    assert not may("get", "services/proxy", "kube-system")
    assert not may("delete", "nodes", None)
