"""The stack on the one-machine Kubernetes cluster (chaos.runtime.cluster): three
node containers (us, eu, apac), each with its own Docker engine, a kubelet
and kube-proxy, the control plane on this machine, the generated manifests
applied. Brought up once for the module (about a minute) and torn down after
it, leaving nothing behind."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chaos.runtime.cluster.cluster import NAMESPACE, OneMachineCluster, ready_pods
from chaos.runtime.cluster.control_plane import ControlPlanePorts
from chaos.runtime.cluster.nodes import CLUSTER_LABEL, NODE_IMAGE, ClusterLayout
from services.topology import PROFILES_REPLICAS, SERVICES
from tests.compose.compose_support import IMAGES, docker_client_or_fail, ensure_images
from tests.waiting import until

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

LAYOUT = ClusterLayout("chaosbed-test-k8s", subnet="10.250.7.0/24")
#: The machine-wide kernel settings a kubelet would change (it must not).
SYSCTLS = ("kernel/panic", "kernel/panic_on_oops", "vm/overcommit_memory")
POLL: dict[str, float] = {"timeout_s": 90.0, "every_s": 0.5}


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def sysctls() -> dict[str, str]:
    return {name: Path("/proc/sys", name).read_text().strip() for name in SYSCTLS}


def leftovers() -> dict[str, str]:
    """What of this cluster is still on the machine: containers, volumes, the network,
    routes, control plane processes."""

    def run(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()

    label = f"{CLUSTER_LABEL}={LAYOUT.name}"
    found = {
        "containers": run("docker", "ps", "-aq", "--filter", f"label={label}"),
        "volumes": run("docker", "volume", "ls", "-q", "--filter", f"name={LAYOUT.name}"),
        "network": run("docker", "network", "ls", "-q", "--filter", f"name={LAYOUT.network}"),
        "routes": run("ip", "route", "show", "via", LAYOUT.nodes[0].address),
        "processes": run("pgrep", "-f", f"bind-address={LAYOUT.gateway}"),
    }
    return {what: text for what, text in found.items() if text}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OneMachineCluster]:
    ensure_images(docker_client_or_fail(), cluster=True, images=(*IMAGES, NODE_IMAGE))
    before = sysctls()
    work = tmp_path_factory.mktemp("cluster")
    started = OneMachineCluster(LAYOUT, work, ControlPlanePorts(*free_ports(3)))
    started.down()  # what an interrupted earlier run left
    started.up()
    try:
        yield started
    finally:
        started.down()
    assert leftovers() == {}
    assert sysctls() == before


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


def send(method: str, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.load(answer)


def service_url(cluster: OneMachineCluster, name: str) -> str:
    service = cluster.plane.api("GET", f"/api/v1/namespaces/{NAMESPACE}/services/{name}")
    return f"http://{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"


def pods_of(cluster: OneMachineCluster, name: str) -> list[dict[str, Any]]:
    return [
        pod
        for pod in cluster.pods()
        if pod["metadata"]["labels"].get("app.kubernetes.io/name") == name
    ]


def test_each_profiles_replica_runs_on_its_regions_node_and_the_stateless_pods_spread(
    cluster: OneMachineCluster,
) -> None:
    node_of_region = {node.region: node.name for node in LAYOUT.nodes}
    for region, replica in PROFILES_REPLICAS.items():
        (pod,) = pods_of(cluster, replica)
        assert pod["spec"]["nodeName"] == node_of_region[region]
        assert pod["status"]["phase"] == "Running"
    stateless = [s.name for s in SERVICES.values() if s.region is None]
    assert stateless
    for name in stateless:
        pods = pods_of(cluster, name)
        assert len(pods) == 2
        assert len({pod["spec"]["nodeName"] for pod in pods}) == 2, name


async def test_prometheus_in_the_cluster_scrapes_every_pod_the_api_lists(
    cluster: OneMachineCluster,
) -> None:
    prometheus = service_url(cluster, "prometheus")

    def scraped() -> dict[str, tuple[str, str, str]]:
        targets = get(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
        return {
            t["labels"]["pod"]: (t["labels"]["job"], t["labels"]["node"], t["health"])
            for t in targets
            if "pod" in t["labels"]
        }

    expected = {
        pod["metadata"]["name"]: (
            pod["metadata"]["labels"]["app.kubernetes.io/name"],
            pod["spec"]["nodeName"],
            "up",
        )
        for pod in cluster.pods()
        if pod["metadata"]["labels"].get("app.kubernetes.io/part-of") == "chaosbed"
    }
    assert len(expected) == 3 * 2 + len(PROFILES_REPLICAS)
    await until(lambda: scraped() == expected, what="every pod scraped, up", **POLL)


async def test_a_write_in_eu_reaches_the_us_replica_on_another_node(
    cluster: OneMachineCluster,
) -> None:
    member = f"m-{uuid.uuid4().hex[:8]}"
    written = send(
        "PATCH",
        f"{service_url(cluster, 'profiles-eu')}/profiles/{member}",
        {"languages": ["fr"]},
        {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert written["version"] == 1
    us = service_url(cluster, "profiles")
    await until(
        lambda: get(f"{us}/profiles/{member}")["version"] == 1, what="the write in us", **POLL
    )
    assert get(f"{us}/profiles/{member}")["preferences"]["languages"] == ["fr"]


async def test_a_started_playback_crosses_the_nodes(cluster: OneMachineCluster) -> None:
    playback = service_url(cluster, "playback")
    for title in range(1, 7):  # the Service spreads them over both pods
        started = send("POST", f"{playback}/playback/start", {"member": "m1", "title": title})
        assert started["title"] == title and started["manifest"]["url"]


async def test_a_deleted_pod_is_replaced_and_discovered(cluster: OneMachineCluster) -> None:
    (victim, _) = sorted(pod["metadata"]["name"] for pod in pods_of(cluster, "catalog"))
    cluster.plane.api(
        "DELETE", f"/api/v1/namespaces/{NAMESPACE}/pods/{victim}", {"gracePeriodSeconds": 0}
    )

    def replaced() -> bool:
        names = {pod["metadata"]["name"] for pod in pods_of(cluster, "catalog")}
        return victim not in names and len(ready_pods(pods_of(cluster, "catalog"))) == 2

    await until(replaced, what="the deleted pod replaced, both Ready", **POLL)
    prometheus = service_url(cluster, "prometheus")
    current = {pod["metadata"]["name"] for pod in pods_of(cluster, "catalog")}

    def discovered() -> bool:
        targets = get(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
        scraped = {t["labels"]["pod"] for t in targets if t["labels"].get("job") == "catalog"}
        return scraped == current

    await until(discovered, what="Prometheus scraping the replacement", **POLL)
