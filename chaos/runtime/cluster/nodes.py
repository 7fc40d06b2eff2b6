"""The one-machine cluster's nodes: a container per region (us, eu, apac), each
with its own Docker engine, a kubelet and kube-proxy (node.sh), on a bridge
network of their own; the control plane on this machine listens on that
bridge's address.

    nodes = ClusterNodes(ClusterLayout("chaosbed"), plane, bin_dir, work_dir)
    nodes.create_network()   # before the control plane, which listens on its gateway
    nodes.start()
    nodes.load_images(["chaosbed/service:latest"])
    nodes.wait_ready()
    nodes.stop()             # the containers, their volumes, the network

How the pieces reach each other:

* each node's engine hands its pods addresses from the node's own /24 of
  `cluster_cidr` (10.244.1.0/24 for the first node), with no NAT; every node
  routes the others' /24 to them, so pods talk to pods across nodes directly;
* kube-proxy on every node turns a Service's cluster IP into its pods';
* this machine routes the pods' /24s to their nodes and the Services' range
  to the first node (`host_routes`), so the runner reaches Services and pods
  as a pod would; the routes go with the network (`stop`).

A node container is not --privileged (these machines deny CAP_SYS_RESOURCE,
which --privileged asks for): it gets every other capability, no seccomp or
AppArmor profile, every device and a private cgroup namespace. Its kubelet
leaves the machine's kernel settings alone (--protect-kernel-defaults, with
build.sh's patch that makes it warn); kube-proxy's settings are the node's own
network namespace's.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import json
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.topology import PROFILES_REPLICAS

from .control_plane import SERVICE_CIDR, ControlPlane, ControlPlaneFailed, KubernetesApi

__all__ = [
    "CLUSTER_LABEL",
    "NODE_CGROUPS",
    "NODE_CONTAINER_OPTIONS",
    "NODE_IMAGE",
    "ClusterLayout",
    "ClusterNodes",
    "Node",
    "container_state",
    "node_users",
    "ready_condition",
]

NODE_IMAGE = "chaosbed/cluster-node:bookworm"
CLUSTER_LABEL = "org.chaosbed.cluster"
REGION_LABEL = "chaosbed.io/region"
NODE_SCRIPT = Path(__file__).with_name("node.sh")
#: What a node container gets to run its own engine (not --privileged: that needs
#: CAP_SYS_RESOURCE, which these machines do not grant): every other capability, no
#: seccomp or AppArmor profile, /proc and /sys unmasked, every device, a private
#: cgroup namespace, /run in memory.
NODE_CONTAINER_OPTIONS = (
    "--cap-add=ALL",
    "--cap-drop=SYS_RESOURCE",
    "--security-opt=seccomp=unconfined",
    "--security-opt=apparmor=unconfined",
    "--security-opt=systempaths=unconfined",
    "--device-cgroup-rule=a *:* rwm",
    "--cgroupns=private",
    "--tmpfs=/run",
)
#: Sourced by node.sh (and by cluster/swarm/node.sh): the cgroups made writable.
NODE_CGROUPS = Path(__file__).with_name("node-cgroups.sh")
NODE_BINARIES = ("kubelet", "kube-proxy", "pause")
VOLUME_ROOT = "/var/lib/chaosbed/volumes"
READY_TIMEOUT_S = 120.0
CONFIG_DIR = "/etc/chaosbed-node"


def container_state(name: str) -> str:
    """The state of the container `name` on this machine's engine (running, exited,
    paused ...), "missing" when the engine has no such container, or "unknown (<why>)"
    when the engine did not say."""
    done = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Status}}", name],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    if done.returncode == 0:
        return done.stdout.strip()
    if "no such" in done.stderr.lower():
        return "missing"
    return f"unknown ({done.stderr.strip()[-200:]})"


def ready_nodes(api: KubernetesApi) -> set[str]:
    """The names of the nodes the API says are Ready."""
    return {
        item["metadata"]["name"]
        for item in api.api("GET", "/api/v1/nodes")["items"]
        if ready_condition(item).get("status") == "True"
    }


def ready_condition(node: dict[str, Any]) -> dict[str, Any]:
    """A node object's Ready condition (empty when it has none yet)."""
    for condition in node.get("status", {}).get("conditions", []):
        if condition["type"] == "Ready":
            return dict(condition)
    return {}


@dataclass(frozen=True)
class Node:
    name: str
    region: str
    address: str
    pod_cidr: str

    @property
    def container(self) -> str:
        return self.name

    @property
    def pod_gateway(self) -> str:
        """The node engine's bridge address, with the prefix (dockerd --bip)."""
        network = ipaddress.ip_network(self.pod_cidr)
        return f"{network.network_address + 1}/{network.prefixlen}"


@dataclass(frozen=True)
class ClusterLayout:
    """One cluster's names and addresses: the bridge network `<name>-cluster`
    on `subnet` (this machine is its first address, the nodes the next ones),
    node containers `<name>-<region>`."""

    name: str
    subnet: str = "10.250.0.0/24"
    """Outside Docker's default address pools (172.17-31/16, 192.168/16), which
    compose projects draw from, so that their networks never overlap it."""
    cluster_cidr: str = "10.244.0.0/16"
    regions: tuple[str, ...] = tuple(PROFILES_REPLICAS)

    @property
    def network(self) -> str:
        return f"{self.name}-cluster"

    @property
    def gateway(self) -> str:
        return str(ipaddress.ip_network(self.subnet).network_address + 1)

    @property
    def nodes(self) -> tuple[Node, ...]:
        subnet = ipaddress.ip_network(self.subnet)
        pods = list(ipaddress.ip_network(self.cluster_cidr).subnets(new_prefix=24))
        return tuple(
            Node(
                name=f"{self.name}-{region}",
                region=region,
                address=str(subnet.network_address + 2 + index),
                pod_cidr=str(pods[index + 1]),
            )
            for index, region in enumerate(self.regions)
        )


def node_users(layout: ClusterLayout) -> tuple[tuple[str, str], ...]:
    """The control plane's users for these nodes: a kubelet each, and kube-proxy."""
    return (
        *((f"system:node:{node.name}", "system:nodes") for node in layout.nodes),
        ("system:kube-proxy", "system:node-proxier"),
    )


def _kubelet_config() -> dict[str, Any]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "cgroupfs",
        "failSwapOn": False,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "protectKernelDefaults": True,
        "oomScoreAdj": 0,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
        },
        "authorization": {"mode": "Webhook"},
        # the images are loaded, never pulled: nothing may collect them
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
        },
        "serializeImagePulls": False,
        "nodeStatusUpdateFrequency": "4s",
    }


@dataclass
class ClusterNodes:
    layout: ClusterLayout
    plane: ControlPlane
    bin_dir: Path
    work_dir: Path

    # -- docker

    def docker(self, *args: str, input: bytes | None = None, timeout: float = 120) -> str:
        done = subprocess.run(
            ["docker", *args], capture_output=True, input=input, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise ControlPlaneFailed(
                f"docker {' '.join(args[:3])} exited {done.returncode}: "
                f"{done.stderr.decode(errors='replace').strip()[-500:]}"
            )
        return done.stdout.decode(errors="replace")

    def create_network(self) -> None:
        """The nodes' bridge (this machine is its gateway): before the control plane
        starts, which listens on the gateway's address."""
        self.docker(
            "network",
            "create",
            "--driver",
            "bridge",
            "--subnet",
            self.layout.subnet,
            "--gateway",
            self.layout.gateway,
            "--label",
            f"{CLUSTER_LABEL}={self.layout.name}",
            self.layout.network,
        )

    def start(self) -> None:
        """The node containers (the network and the control plane are up)."""
        missing = [b for b in NODE_BINARIES if not (self.bin_dir / b).is_file()]
        if missing:
            raise ControlPlaneFailed(
                f"Kubernetes node binaries missing ({', '.join(missing)}) in {self.bin_dir}:"
                " build them with `bash cluster/kubernetes/build.sh --all` (as root)"
            )
        try:
            for node in self.layout.nodes:
                self._start_node(node)
        except BaseException:
            self.stop()
            raise

    def _write_config(self, node: Node) -> Path:
        config = self.work_dir / "nodes" / node.region
        config.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.plane.certificate, config / "ca.crt")
        certificate = f"{CONFIG_DIR}/ca.crt"
        self.plane.write_kubeconfig(
            config / "kubelet.kubeconfig", f"system:node:{node.name}", certificate
        )
        self.plane.write_kubeconfig(
            config / "kube-proxy.kubeconfig", "system:kube-proxy", certificate
        )
        (config / "kubelet.yaml").write_text(json.dumps(_kubelet_config(), indent=2))
        volume = f"{VOLUME_ROOT}/{PROFILES_REPLICAS[node.region]}"
        routes = " ".join(
            f"{other.pod_cidr}={other.address}" for other in self.layout.nodes if other != node
        )
        (config / "node.env").write_text(
            f"NODE={node.name}\nREGION={node.region}\nNODE_IP={node.address}\n"
            f"POD_GATEWAY={node.pod_gateway}\nCLUSTER_CIDR={self.layout.cluster_cidr}\n"
            f'ROUTES="{routes}"\nVOLUMES="{volume}"\n'
        )
        shutil.copyfile(NODE_SCRIPT, config / "node.sh")
        shutil.copyfile(NODE_CGROUPS, config / NODE_CGROUPS.name)
        return config

    def _start_node(self, node: Node) -> None:
        config = self._write_config(node)
        mounts = [f"{config}:{CONFIG_DIR}:ro"] + [
            f"{self.bin_dir / binary}:/usr/local/bin/{binary}:ro" for binary in NODE_BINARIES
        ]
        self.docker(
            "run",
            "--detach",
            "--name",
            node.container,
            "--hostname",
            node.name,
            "--label",
            f"{CLUSTER_LABEL}={self.layout.name}",
            "--network",
            self.layout.network,
            "--ip",
            node.address,
            *NODE_CONTAINER_OPTIONS,
            "--tmpfs",
            "/var/lib/kubelet:rw,exec",
            "--volume",
            f"{node.container}-docker:/var/lib/docker",
            *(arg for mount in mounts for arg in ("--volume", mount)),
            NODE_IMAGE,
        )

    def engine_ready(self, node: Node) -> bool:
        done = subprocess.run(
            [
                "docker",
                "exec",
                node.container,
                "docker",
                "version",
                "--format",
                "{{.Server.Version}}",
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        return done.returncode == 0

    def load_images(self, images: Sequence[str], timeout_s: float = 300.0) -> None:
        """Every image into every node's engine (`docker save`, then `docker load` in
        each node, side by side)."""
        deadline = time.monotonic() + timeout_s
        for node in self.layout.nodes:
            while not self.engine_ready(node):
                self._check_running(node)
                if time.monotonic() > deadline:
                    raise ControlPlaneFailed(f"node {node.name}: its engine did not start")
                time.sleep(0.3)
        archive = self.work_dir / "images.tar"
        self.docker("save", "--output", str(archive), *images, timeout=timeout_s)
        try:
            with concurrent.futures.ThreadPoolExecutor(len(self.layout.nodes)) as pool:
                loads = [
                    pool.submit(self._load, node, archive, timeout_s) for node in self.layout.nodes
                ]
                for load in loads:
                    load.result()
        finally:
            archive.unlink(missing_ok=True)

    def _load(self, node: Node, archive: Path, timeout_s: float) -> None:
        with archive.open("rb") as images:
            done = subprocess.run(
                ["docker", "exec", "-i", node.container, "docker", "load", "--quiet"],
                stdin=images,
                capture_output=True,
                timeout=timeout_s,
                check=False,
            )
        if done.returncode != 0:
            error = done.stderr.decode(errors="replace")[-300:]
            raise ControlPlaneFailed(
                f"node {node.name}: docker load exited {done.returncode}: {error}"
            )

    def _check_running(self, node: Node) -> None:
        state = container_state(node.container)
        if state != "running":
            logs = subprocess.run(
                ["docker", "logs", "--tail", "10", node.container],
                capture_output=True,
                text=True,
                check=False,
            )
            raise ControlPlaneFailed(
                f"node {node.name} is {state}: {(logs.stdout + logs.stderr).strip()[-800:]}"
            )

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until every node is registered and Ready."""
        deadline = time.monotonic() + timeout_s
        while True:
            ready = self.ready_nodes()
            if all(node.name in ready for node in self.layout.nodes):
                return
            for node in self.layout.nodes:
                self._check_running(node)
            if time.monotonic() > deadline:
                raise ControlPlaneFailed(
                    f"nodes not Ready in {timeout_s:.0f} s: only {sorted(ready) or 'none'}"
                )
            time.sleep(0.5)

    def ready_nodes(self) -> set[str]:
        return ready_nodes(self.plane)

    def host_routes(self) -> list[tuple[str, str]]:
        """(destination, via) for this machine: each node's pods, and the Services'
        range through the first node."""
        first = self.layout.nodes[0]
        return [(node.pod_cidr, node.address) for node in self.layout.nodes] + [
            (SERVICE_CIDR, first.address)
        ]

    def add_host_routes(self) -> None:
        for destination, via in self.host_routes():
            subprocess.run(["ip", "route", "replace", destination, "via", via], check=True)

    def stop(self) -> None:
        """The node containers, their engines' volumes, and the network (and with it
        the routes through it)."""
        names = [node.container for node in self.layout.nodes]
        shutil.rmtree(self.work_dir / "nodes", ignore_errors=True)
        subprocess.run(
            ["docker", "rm", "--force", "--volumes", *names],
            capture_output=True,
            check=False,
            timeout=120,
        )
        subprocess.run(
            ["docker", "volume", "rm", *(f"{n}-docker" for n in names)],
            capture_output=True,
            check=False,
            timeout=120,
        )
        subprocess.run(
            ["docker", "network", "rm", self.layout.network],
            capture_output=True,
            check=False,
            timeout=60,
        )
