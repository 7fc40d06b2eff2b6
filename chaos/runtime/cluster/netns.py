"""The pods' network namespaces: the cluster runtime's `NetworkLayer`
(chaos/runtime/network.py), on which the network faults (partition, isolate,
loss, bandwidth) act as they do on the docker runtime's containers.

A pod's network namespace is its sandbox's (the pause container the kubelet
starts first; the pod's containers join it, and it outlives their
restarts, so a killed and restarted service keeps the fault's rules). A
fault's commands run in a short-lived helper container on the pod's own
node, started by that node's Docker engine with the sandbox's network
namespace and NET_ADMIN (the image chaosbed/net-helper, loaded onto every
node), exactly as the docker runtime's helpers (chaos/runtime/docker/netns.py,
whose code this reuses per node). Each node's engine listens on a second
socket, /run/chaosbed-cluster/<node>/docker.sock on this machine, for that.

A pod's addresses are its own and its Service's cluster address: the
services call each other through their Services, so a rule that cuts a
peer must name the peer's cluster address (what the caller's packets carry
before the node translates it), and the peer's pod addresses (what a call
from the peer carries when it arrives).

A node that is down has no namespaces (its pods are not running).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from chaos.runtime.docker.engine import Engine, connect
from chaos.runtime.docker.netns import Namespaces
from chaos.runtime.errors import DockerUnavailable, InstanceActionFailed
from chaos.runtime.network import Namespace
from chaos.runtime.stack import ServiceSpec

from .cluster import NAME_LABEL, NAMESPACE
from .nodes import Node, container_state, engine_socket

if TYPE_CHECKING:
    from .runtime import ClusterRuntime

__all__ = ["PodNamespaces"]

POD_UID = "io.kubernetes.pod.uid"
SANDBOXES = ["io.kubernetes.docker.type=podsandbox", f"io.kubernetes.pod.namespace={NAMESPACE}"]


class PodNamespaces:
    """The stack's pods' namespaces (the Prometheus pod's too: the scraper)."""

    def __init__(
        self,
        runtime: ClusterRuntime,
        prometheus: ServiceSpec,
        *,
        node_state: Callable[[str], str] = container_state,
        sandboxes: Callable[[Node], dict[str, str]] | None = None,
    ) -> None:
        """`node_state`: a node container's state (running, exited ...); `sandboxes`:
        the running sandboxes on a node's engine, by pod uid."""
        self.runtime = runtime
        self._node_state = node_state
        self._sandboxes = sandboxes or _sandboxes
        self.services = tuple(spec.name for spec in runtime.services)
        self.scraper = prometheus.name
        self._ports = {spec.name: spec.port for spec in (*runtime.services, prometheus)}
        self._nodes = {node.container: node for node in runtime.layout.nodes}
        self._engines = {
            name: Namespaces(
                self._connector(node), runtime.layout.name, self.services, scraper=self.scraper
            )  # fmt: skip
            for name, node in self._nodes.items()
        }

    @staticmethod
    def _connector(node: Node) -> Callable[[], Engine]:
        def connect_node() -> Engine:
            import docker

            socket = engine_socket(node)
            return connect(
                lambda: docker.DockerClient(base_url=f"unix://{socket}", version="auto", timeout=30)
            )

        return connect_node

    def _node_of(self, namespace: Namespace) -> Namespaces:
        try:
            return self._engines[namespace.host]
        except KeyError:
            where = f"not on a node of this cluster ({namespace.host!r})"
            raise InstanceActionFailed(namespace.container, "network", where) from None

    async def all(self) -> list[Namespace]:
        """Every running pod of the stack and Prometheus, on a node that is up (a node
        that is down runs none). A node that is up but whose engine does not answer,
        or a pod the API says runs with no sandbox running on its node, is an error,
        never a namespace left out: a fault's rules would miss it unseen."""

        def read() -> list[Namespace]:
            by_node: dict[str, list[dict[str, Any]]] = {}
            for pod in self.runtime.cluster.pods():
                service = pod["metadata"].get("labels", {}).get(NAME_LABEL)
                status = pod.get("status", {})
                if (
                    service in self._ports
                    and status.get("phase") == "Running"
                    and status.get("podIP")
                    and not pod["metadata"].get("deletionTimestamp")
                ):
                    by_node.setdefault(pod["spec"].get("nodeName", ""), []).append(pod)
            found = []
            for name, pods in sorted(by_node.items()):
                node = self._nodes.get(name)
                if node is None or self._node_state(node.container) != "running":
                    continue  # not one of ours; or down, with its pods
                try:
                    sandboxes = self._sandboxes(node)
                except DockerUnavailable as exc:
                    raise InstanceActionFailed(name, "network", f"its engine: {exc}") from exc
                for pod in pods:
                    sandbox = sandboxes.get(pod["metadata"].get("uid", ""))
                    if sandbox is None:
                        raise InstanceActionFailed(
                            pod["metadata"]["name"], "network",
                            f"the API says it runs on {name}, whose engine runs no sandbox of it",
                        )  # fmt: skip
                    service = pod["metadata"]["labels"][NAME_LABEL]
                    address = self.runtime.service_address(service)
                    found.append(
                        Namespace(
                            service=service,
                            container=pod["metadata"]["name"],
                            container_id=sandbox,
                            addresses=(pod["status"]["podIP"], address),
                            port=self._ports[service],
                            host=name,
                        )
                    )
            order = {name: index for index, name in enumerate(self._ports)}
            return sorted(found, key=lambda ns: (order[ns.service], ns.container))

        return await asyncio.to_thread(read)

    async def run(self, namespace: Namespace, argv: Sequence[str], run_id: str) -> str:
        return await self._node_of(namespace).run(namespace, argv, run_id)

    async def expire(
        self, namespace: Namespace, script: str, after_s: float, run_id: str, name: str
    ) -> None:
        await self._node_of(namespace).expire(namespace, script, after_s, run_id, name)

    def _up(self) -> dict[str, Namespaces]:
        """The engines of the nodes that are up (the helpers of a node that is down
        stopped with it; its engine removes them when it starts again)."""
        return {
            name: engine
            for name, engine in self._engines.items()
            if self._node_state(name) == "running"
        }

    async def helpers(self, *, stale_only: bool = False) -> list[str]:
        """This cluster's helpers on every node that is up."""
        found: list[str] = []
        for engine in (await asyncio.to_thread(self._up)).values():
            found += await engine.helpers(stale_only=stale_only)
        return sorted(found)

    async def remove_helper(self, name: str) -> None:
        """Remove the helper from whichever node that is up runs it (one already gone
        is no error)."""
        for engine in (await asyncio.to_thread(self._up)).values():
            await engine.remove_helper(name)


def _sandboxes(node: Node) -> dict[str, str]:
    """The running pod sandboxes of the stack's namespace on `node`: pod uid -> id (a
    StatefulSet's pod has the same name again when it is replaced, not the same uid)."""
    engine = PodNamespaces._connector(node)()
    try:
        listed = engine.client.containers.list(
            filters={"label": SANDBOXES, "status": "running"}, sparse=True
        )
        return {
            str((c.attrs.get("Labels") or {}).get(POD_UID)): str(c.id)
            for c in listed
            if (c.attrs.get("Labels") or {}).get(POD_UID)
        }
    finally:
        engine.close()
