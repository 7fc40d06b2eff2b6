"""The runner's side of the node agents (node_agent.py, one pod per node): what runs
on a node, asked through the Kubernetes API server's proxy to the node's agent
pod (`pods/proxy`, as the runner's ServiceAccount), so it reads the same on a
cluster of other machines as on the one-machine cluster.

    agents = NodeAgents(plane)
    read = agents.read({"chaosbed-us": {container_id, ...}, "chaosbed-eu": set()})
    read.containers[container_id].main     # its main pid, as the node sees it
    read.unread["chaosbed-eu"]             # why a node's agent gave no answer
    agents.read({"chaosbed-us": set()}, pids={"chaosbed-us": {812}}).running["chaosbed-us"]

The nodes are asked side by side. A node whose agent is not there, not Ready,
or does not answer within AGENT_TIMEOUT_S is in `unread` with the reason, and
nothing is known of its processes (its containers are not in `containers`: the
caller must not read that as "no process"). So is a node whose agent answers
but sees no process of a pod `expected` there (one the API says runs: its
sandbox at least has one): an agent that cannot see its node's processes
(hostPID refused, another /proc) would otherwise say every container ended.
"""

from __future__ import annotations

import concurrent.futures
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .cluster import NAME_LABEL, NAMESPACE, RUNNER_PART, ready_pods
from .control_plane import KubernetesApi
from .node_agent import AGENT_PORT, MAX_CONTAINERS, MAX_PIDS
from .pod_processes import ContainerProcesses

__all__ = ["AGENT", "AGENT_TIMEOUT_S", "NodeAgents", "NodesRead"]

#: The agents' DaemonSet and their pods' app.kubernetes.io/name (node-agent.yaml).
AGENT = "chaosbed-node-agent"
#: How long one node's agent has to answer (a node that is down does not).
AGENT_TIMEOUT_S = 3.0


@dataclass
class NodesRead:
    """What the agents said: the asked containers that have processes, the uid of
    every pod with a process on a node read, the asked pids still running on each
    node read (described), and each node not read with why."""

    containers: dict[str, ContainerProcesses] = field(default_factory=dict)
    pods: set[str] = field(default_factory=set)
    running: dict[str, dict[int, str]] = field(default_factory=dict)
    unread: dict[str, str] = field(default_factory=dict)


class NodeAgents:
    def __init__(self, plane: KubernetesApi) -> None:
        self.plane = plane

    def agents(self) -> dict[str, dict[str, Any]]:
        """Each node's agent pod: one of the DaemonSet's (not any pod with its labels),
        Ready and not being deleted first, if there are several."""
        query = urllib.parse.urlencode(
            {"labelSelector": f"{NAME_LABEL}={AGENT},app.kubernetes.io/part-of={RUNNER_PART}"}
        )
        found = self.plane.api("GET", f"/api/v1/namespaces/{NAMESPACE}/pods?{query}")["items"]
        mine = [
            pod
            for pod in found
            if any(
                owner.get("kind") == "DaemonSet" and owner.get("name") == AGENT
                for owner in pod["metadata"].get("ownerReferences", [])
            )
        ]

        def worse(pod: dict[str, Any]) -> tuple[bool, bool]:
            return bool(pod["metadata"].get("deletionTimestamp")), not ready_pods([pod])

        by_node: dict[str, dict[str, Any]] = {}
        for pod in sorted(mine, key=worse):
            node = pod["spec"].get("nodeName")
            if node and node not in by_node:
                by_node[node] = pod
        return by_node

    def read(
        self,
        wanted: Mapping[str, set[str]],
        pids: Mapping[str, set[int]] | None = None,
        expected: Mapping[str, set[str]] | None = None,
    ) -> NodesRead:
        """The `wanted` containers of each node, and its `pids` still running, from its
        agent, which must see a process of each pod `expected` on it (see the module)."""
        pids = pids or {}
        expected = expected or {}
        result = NodesRead()
        wanted = {node: wanted.get(node, set()) for node in {*wanted, *pids}}
        if not wanted:
            return result
        agents = self.agents()

        def ask(node: str) -> dict[str, Any] | str:
            pod = agents.get(node)
            if pod is None:
                return f"no node agent ({AGENT}) runs on {node}"
            name = pod["metadata"]["name"]
            if not ready_pods([pod]):
                return f"its node agent {name} on {node} is not Ready"
            ids = sorted(wanted[node])
            numbers = sorted(pids.get(node, set()))
            merged: dict[str, Any] = {"containers": {}, "pods": [], "running": {}}
            batches = max(-(-len(ids) // MAX_CONTAINERS), -(-len(numbers) // MAX_PIDS), 1)
            for batch in range(batches):
                query = urllib.parse.urlencode(
                    [
                        ("container", cid)
                        for cid in ids[batch * MAX_CONTAINERS : (batch + 1) * MAX_CONTAINERS]
                    ]
                    + [("pid", str(n)) for n in numbers[batch * MAX_PIDS : (batch + 1) * MAX_PIDS]]
                )
                path = (
                    f"/api/v1/namespaces/{NAMESPACE}/pods/{name}:{AGENT_PORT}/proxy/processes"
                    + (f"?{query}" if query else "")
                )
                try:
                    answer = self.plane.api("GET", path, timeout=AGENT_TIMEOUT_S)
                except Exception as exc:  # noqa: BLE001 - the node not read, said why
                    return f"its node agent {name} on {node} did not answer: {exc}"
                if not isinstance(answer, dict) or answer.get("node") != node:
                    said = answer.get("node") if isinstance(answer, dict) else answer
                    return f"its node agent {name} answered for node {said!r}, not {node}"
                merged["containers"].update(answer["containers"])
                merged["running"].update(answer["running"])
                merged["pods"] += answer["pods"]
            unseen = sorted(expected.get(node, set()) - set(merged["pods"]))
            if unseen:
                return (
                    f"its node agent {name} sees no process of pod {unseen[0]}, which the API "
                    f"says runs on {node}: it does not see the node's processes"
                )
            return merged

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(wanted)) as pool:
            answers = dict(zip(wanted, pool.map(ask, wanted), strict=True))
        for node, answer in answers.items():
            if isinstance(answer, str):
                result.unread[node] = answer
                continue
            result.pods |= set(answer["pods"])
            result.running[node] = {int(pid): said for pid, said in answer["running"].items()}
            for cid, found in answer["containers"].items():
                main = found.get("main")
                result.containers[cid] = ContainerProcesses(
                    tuple(int(pid) for pid in found["pids"]),
                    None if main is None else int(main),
                    bool(found["stopped"]),
                )
        return result
