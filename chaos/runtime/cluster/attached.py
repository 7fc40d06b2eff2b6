"""A Kubernetes cluster a team already has, reached with a kubeconfig.

    cluster = AttachedCluster(Path("~/.kube/config").expanduser(), context=None)
    cluster.up(prepare=...)   # the manifests applied, every pod Ready
    cluster.down()            # what `up` applied deleted; the nodes are the team's

Unlike the one-machine cluster (cluster.py), nothing of the cluster is this
machine's: its nodes are the ones the API lists with the label
`chaosbed.io/region` (one for each of us, eu and apac), whether a node's machine
runs is what the API says of it (its Ready condition), and the runner reaches
the Services through the API server (service_proxy.py), not through routes.
`up` applies the stack, the runner's rights and the node agents
(chaosbed.yaml, runner-rbac.yaml, node-agent.yaml) with the kubeconfig's
identity; the local volumes are the team's to apply first when their cluster
has no provisioner.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.project import CLUSTER_MANIFESTS
from chaos.runtime.errors import InvalidStack
from services.topology import PROFILES_REPLICAS

from .cluster import NAMESPACE, PODS_TIMEOUT_S, RUNNER_PART, STACK_PARTS, ready_pods, stack_pods
from .control_plane import ControlPlaneFailed
from .kubeconfig import ClusterApi
from .nodes import REGION_LABEL, Node, ready_condition, ready_nodes

__all__ = ["ATTACHED_MANIFESTS", "AttachedCluster", "AttachedLayout", "Attachment"]

#: What `up` applies to a cluster it attaches to, in order, and `down` deletes.
ATTACHED_MANIFESTS = ("chaosbed.yaml", "runner-rbac.yaml", "node-agent.yaml")
#: The longest `down` waits for what it deletes to be gone (a namespace goes once every
#: pod in it has ended).
DELETE_TIMEOUT_S = 300
#: The node agents' DaemonSet (node-agent.yaml).
AGENTS = "chaosbed-node-agent"


@dataclass(frozen=True)
class Attachment:
    """What `up --kubeconfig` records in the state directory for the commands after it."""

    kubeconfig: Path
    context: str | None = None

    FILE = "attached.json"

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        record = {"kubeconfig": str(self.kubeconfig), "context": self.context}
        (directory / self.FILE).write_text(json.dumps(record, indent=2) + "\n")

    @classmethod
    def read(cls, directory: Path) -> Attachment | None:
        path = directory / cls.FILE
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
            return cls(Path(record["kubeconfig"]), record.get("context"))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidStack(f"{path}: not a record of an attached cluster ({exc})") from None


@dataclass
class AttachedLayout:
    """The cluster's nodes as the API lists them: those labelled with a region."""

    api: ClusterApi
    name: str = NAMESPACE
    _nodes: tuple[Node, ...] | None = field(default=None, repr=False)

    @property
    def nodes(self) -> tuple[Node, ...]:
        """A node for each region that has one, in the regions' order (read once)."""
        if self._nodes is None:
            found = [item for item in self.api.api("GET", "/api/v1/nodes")["items"]]
            self._nodes = nodes_of(found)
        return self._nodes

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(node.region for node in self.nodes)


def nodes_of(items: Sequence[dict[str, Any]]) -> tuple[Node, ...]:
    """The labelled nodes of an API node list, one per region (InvalidStack naming them
    when a region has several: a node fault on it would not know which)."""
    by_region: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        region = item["metadata"].get("labels", {}).get(REGION_LABEL)
        if region:
            by_region.setdefault(region, []).append(item)
    nodes = []
    for region in PROFILES_REPLICAS:
        labelled = by_region.get(region, [])
        if len(labelled) > 1:
            names = ", ".join(sorted(item["metadata"]["name"] for item in labelled))
            raise InvalidStack(
                f"region {region} is on {len(labelled)} nodes ({names}): label one node per "
                f"region with {REGION_LABEL} (a node fault on a region acts on its node)"
            )
        if labelled:
            item = labelled[0]
            addresses = item.get("status", {}).get("addresses", [])
            internal = [a["address"] for a in addresses if a.get("type") == "InternalIP"]
            nodes.append(
                Node(
                    name=item["metadata"]["name"],
                    region=region,
                    address=internal[0] if internal else "",
                    pod_cidr=item.get("spec", {}).get("podCIDR", ""),
                )
            )
    return tuple(nodes)


class AttachedCluster:
    """The stack on a cluster the kubeconfig reaches (see the module's docstring)."""

    def __init__(
        self,
        attachment: Attachment,
        manifests: Path = CLUSTER_MANIFESTS,
    ) -> None:
        self.attachment = attachment
        self.manifests = manifests
        self.plane = ClusterApi.from_kubeconfig(attachment.kubeconfig, attachment.context)
        self.layout = AttachedLayout(self.plane)

    def up(
        self, timeout_s: float = PODS_TIMEOUT_S, prepare: Callable[[], None] | None = None
    ) -> None:
        """The manifests applied (again: applying what is there changes nothing), then
        every pod Ready and a node agent Ready on every node. A region with no node
        is refused before anything is applied. What was applied stays when a pod
        never becomes Ready: `down` removes it."""
        missing = [r for r in PROFILES_REPLICAS if r not in self.layout.regions]
        if missing:
            raise InvalidStack(
                f"no node labelled {REGION_LABEL}={' or '.join(missing)}: each profiles "
                f"replica runs on a node of its region (kubectl label node <node> "
                f"{REGION_LABEL}={missing[0]})"
            )
        if prepare is not None:
            prepare()
        for manifest in ATTACHED_MANIFESTS:
            self.plane.kubectl("apply", "-f", str(self.manifests / manifest))
        self.wait_pods_ready(timeout_s)

    def pods(self, parts: Sequence[str] = STACK_PARTS) -> list[dict[str, Any]]:
        return stack_pods(self.plane, parts)

    def wait_pods_ready(self, timeout_s: float = PODS_TIMEOUT_S) -> None:
        """Until every pod of the stack is Ready (and there are some), and the node
        agents' DaemonSet has a Ready pod on every node it is meant for."""
        deadline = time.monotonic() + timeout_s
        path = f"/apis/apps/v1/namespaces/{NAMESPACE}/daemonsets/{AGENTS}"
        while True:
            pods = self.pods((*STACK_PARTS, RUNNER_PART))
            ready = ready_pods(pods)
            status = self.plane.api("GET", path).get("status", {})
            wanted = status.get("desiredNumberScheduled", 0)
            agents = wanted > 0 and status.get("numberReady", 0) == wanted
            if pods and len(ready) == len(pods) and agents:
                return
            if time.monotonic() > deadline:
                waiting = sorted({p["metadata"]["name"] for p in pods} - set(ready))
                raise ControlPlaneFailed(
                    f"pods not Ready in {timeout_s:.0f} s: {', '.join(waiting) or 'none listed'}"
                    f" (node agents Ready: {status.get('numberReady', 0)} of {wanted});"
                    " `chaosbed down` removes what was applied"
                )
            time.sleep(0.5)

    def ready_nodes(self) -> set[str]:
        return ready_nodes(self.plane)

    def machine_state(self, node: Node, read: dict[str, Any] | None = None) -> str:
        """Whether the node's machine runs, as far as the API knows (its node object,
        `read` when the caller has it): `running` while the node is Ready; otherwise
        unknown, with why (the runner has no other way to ask a cluster it attached
        to)."""
        try:
            found = read or self.plane.api("GET", f"/api/v1/nodes/{node.name}")
        except ControlPlaneFailed as exc:
            return f"unknown ({exc})"
        condition = ready_condition(found)
        if condition.get("status") == "True":
            return "running"
        reason = condition.get("reason") or "no Ready condition"
        return f"unknown (the node is not Ready: {reason})"

    def down(self) -> None:
        """What `up` applied, deleted (the namespace with everything in it, the runner's
        cluster-wide rights), waiting until it is gone."""
        for manifest in reversed(ATTACHED_MANIFESTS):
            self.plane.kubectl(
                "delete", "--ignore-not-found", "--wait=true", f"--timeout={DELETE_TIMEOUT_S}s",
                "-f", str(self.manifests / manifest), timeout=DELETE_TIMEOUT_S + 30,
            )  # fmt: skip

    def running(self) -> list[str]:
        """["api"] when the API answers, else []."""
        try:
            self.plane.api("GET", "/version", timeout=5)
        except ControlPlaneFailed:
            return []
        return ["api"]
