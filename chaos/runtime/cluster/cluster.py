"""The one-machine Kubernetes cluster with the stack on it: the nodes' network, the
control plane on its gateway, a node container per region, the images loaded
into every node, this machine's routes, and the stack's manifests applied.

    cluster = OneMachineCluster(ClusterLayout("chaosbed"), work_dir, ports)
    cluster.up()      # about a minute, most of it loading the images into the nodes
    cluster.plane.api("GET", "/api/v1/namespaces/chaosbed/pods")
    cluster.down()    # nodes, volumes, network, routes and control plane gone

`up` undoes what it did when it fails; `down` removes whatever is there, so
it may be called after a failed or an interrupted `up`.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.project import CLUSTER_MANIFESTS

from .control_plane import (
    ControlPlane,
    ControlPlaneFailed,
    ControlPlanePorts,
    KubernetesApi,
    kubernetes_bin,
)
from .nodes import ClusterLayout, ClusterNodes, Node, container_state, node_users

__all__ = [
    "IMAGES",
    "NAME_LABEL",
    "NAMESPACE",
    "PART_OF",
    "OneMachineCluster",
    "ready_pods",
    "stack_pods",
]

NAMESPACE = "chaosbed"
PART_OF = "app.kubernetes.io/part-of"
#: The label naming a pod's service (the manifests' app.kubernetes.io/name).
NAME_LABEL = "app.kubernetes.io/name"
#: The stack's pods are part of these (helper pods of faults are not).
STACK_PARTS = ("chaosbed", "chaosbed-monitoring")
#: The node agents (node-agent.yaml) are part of the runner, not of the stack.
RUNNER_PART = "chaosbed-runner"
#: What the stack's pods run; loaded into every node's engine.
IMAGES: tuple[str, ...] = (
    "chaosbed/service:latest",
    "chaosbed/prometheus:latest",
    "chaosbed/net-helper:bookworm",  # the node faults' helper pods
)
#: The manifests `up` applies, in order (the local volumes before the claims; the
#: runner's rights once the namespace is there).
MANIFESTS = ("local-volumes.yaml", "chaosbed.yaml", "runner-rbac.yaml", "node-agent.yaml")
PODS_TIMEOUT_S = 120.0
#: Faster than Kubernetes' defaults (40 s, 300 s): a lost node's pods are
#: marked NotReady in 20 s and evicted 30 s after that, so that an experiment
#: sees the orchestrator react within its run.
CONTROLLER_FLAGS = ("--node-monitor-grace-period=20s", "--node-monitor-period=2s")
API_FLAGS = (
    "--default-not-ready-toleration-seconds=30",
    "--default-unreachable-toleration-seconds=30",
)


def ready_pods(pods: Sequence[dict[str, Any]]) -> list[str]:
    """The names of the pods whose Ready condition is True."""
    return [
        pod["metadata"]["name"]
        for pod in pods
        if any(
            condition["type"] == "Ready" and condition["status"] == "True"
            for condition in pod.get("status", {}).get("conditions", [])
        )
    ]


def stack_pods(api: KubernetesApi, parts: Sequence[str] = STACK_PARTS) -> list[dict[str, Any]]:
    """The stack's pods (not the helpers faults run, nor the node agents), or those
    part of `parts`."""
    query = urllib.parse.urlencode({"labelSelector": f"{PART_OF} in ({','.join(parts)})"})
    path = f"/api/v1/namespaces/{NAMESPACE}/pods?{query}"
    items: list[dict[str, Any]] = api.api("GET", path)["items"]
    return items


@dataclass
class OneMachineCluster:
    layout: ClusterLayout
    work_dir: Path
    ports: ControlPlanePorts
    bin_dir: Path = field(default_factory=kubernetes_bin)
    images: tuple[str, ...] = IMAGES
    manifests: Path = CLUSTER_MANIFESTS

    def __post_init__(self) -> None:
        self.plane = ControlPlane(
            self.bin_dir,
            self.work_dir / "control-plane",
            self.ports,
            controllers="*,-nodeipam",
            bind_address=self.layout.gateway,
            users=node_users(self.layout),
            extra_flags={
                "kube-controller-manager": CONTROLLER_FLAGS,
                "kube-apiserver": API_FLAGS,
            },
        )
        self.nodes = ClusterNodes(self.layout, self.plane, self.bin_dir, self.work_dir)

    def up(
        self, timeout_s: float = PODS_TIMEOUT_S, prepare: Callable[[], None] | None = None
    ) -> None:
        """Everything, then every pod Ready; `prepare` runs once the nodes are Ready,
        before the manifests are applied (a Secret, a ConfigMap they use)."""
        try:
            self.nodes.create_network()
            self.plane.start()
            self.nodes.start()
            self.nodes.load_images(self.images)
            self.nodes.wait_ready()
            self.nodes.add_host_routes()
            if prepare is not None:
                prepare()
            for manifest in MANIFESTS:
                self.plane.kubectl("apply", "-f", str(self.manifests / manifest))
            self.wait_pods_ready(timeout_s)
        except BaseException:
            self.down()
            raise

    def pods(self, parts: Sequence[str] = STACK_PARTS) -> list[dict[str, Any]]:
        return stack_pods(self.plane, parts)

    def wait_pods_ready(self, timeout_s: float = PODS_TIMEOUT_S) -> None:
        """Until every pod of the stack is Ready (and there are some), and a node agent
        on each node."""
        deadline = time.monotonic() + timeout_s
        while True:
            pods = self.pods((*STACK_PARTS, RUNNER_PART))
            ready = ready_pods(pods)
            agents = [p for p in pods if p["metadata"]["labels"][PART_OF] == RUNNER_PART]
            if pods and len(ready) == len(pods) and len(agents) == len(self.layout.nodes):
                return
            if time.monotonic() > deadline:
                waiting = sorted({p["metadata"]["name"] for p in pods} - set(ready))
                raise ControlPlaneFailed(
                    f"pods not Ready in {timeout_s:.0f} s: {', '.join(waiting) or 'none listed'}"
                )
            time.sleep(0.5)

    def ready_nodes(self) -> set[str]:
        return self.nodes.ready_nodes()

    def running(self) -> list[str]:
        """The control plane's components that run."""
        return self.plane.running()

    def machine_state(self, node: Node, read: dict[str, Any] | None = None) -> str:
        """The node container's state in this machine's engine (running, exited ...);
        what the API says of the node (`read`) does not tell it."""
        return container_state(node.container)

    def down(self) -> None:
        """The nodes (their pods with them), the network and its routes, the control plane."""
        self.nodes.stop()
        self.plane.stop()
