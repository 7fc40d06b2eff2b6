"""The pods' network namespaces: the cluster runtime's `NetworkLayer`
(chaos/runtime/network.py), on which the network faults (partition, isolate,
loss, bandwidth) act as they do on the docker runtime's containers.

A pod's network namespace is shared by its containers and outlives their
restarts (it is its sandbox's), so a killed and restarted service keeps the
fault's rules. A fault's commands run in a short-lived helper pod
on the pod's own node that enters the pod's namespace (helper_pods.py:
`hostPID`, the pod found by its uid, `nsenter --net`), created and read through
the Kubernetes API alone: no node's container engine is reached (what a cluster
the runner does not own would allow; the namespaces are still listed from this
machine's node containers). A fault's TTL is such a helper too, detached. The
commands asked at once for pods on one node (a scan of every namespace, a step
in two pods) share one helper pod, up to BATCH of them.

A pod's addresses are its own and its Service's cluster address: the
services call each other through their Services, so a rule that cuts a
peer must name the peer's cluster address (what the caller's packets carry
before the node translates it), and the peer's pod addresses (what a call
from the peer carries when it arrives).

A node that is down has no namespaces (its pods are not running).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from chaos.runtime.errors import InstanceActionFailed
from chaos.runtime.network import Namespace
from chaos.runtime.stack import ServiceSpec

from .cluster import NAME_LABEL
from .helper_pods import (
    HELPER_TIMEOUT_S,
    HelperPods,
    OutputLost,
    batch_command,
    batch_results,
    ended,
    pod_command,
    stale,
)
from .nodes import Node, container_state

if TYPE_CHECKING:
    from .runtime import ClusterRuntime

__all__ = ["NET_HELPERS", "PodNamespaces"]

T = TypeVar("T")

#: The helper pods that act in the pods' namespaces (their `part-of` label).
NET_HELPERS = "chaosbed-net-helper"
#: The most commands one helper pod runs (the output of all of them, compressed, must
#: fit a termination message; a batch whose output did not is run again one by one).
BATCH = 6

#: A command waiting for its node's helper: its namespace, script and answer.
_Asked = tuple[Namespace, str, "asyncio.Future[str]"]
#: Which commands may share a helper: those of one event loop, node and run.
_Key = tuple[asyncio.AbstractEventLoop, str, str]


class PodNamespaces:
    """The stack's pods' namespaces (the Prometheus pod's too: the scraper)."""

    def __init__(
        self,
        runtime: ClusterRuntime,
        prometheus: ServiceSpec,
        *,
        node_state: Callable[[str], str] = container_state,
        helpers: HelperPods | None = None,
    ) -> None:
        """`node_state`: a node container's state (running, exited ...); `helpers`: where
        the helper pods are made (the runtime's API, as the runner)."""
        self.runtime = runtime
        self._node_state = node_state
        self._given_helpers = helpers
        self.services = tuple(spec.name for spec in runtime.services)
        self.scraper = prometheus.name
        self._ports = {spec.name: spec.port for spec in (*runtime.services, prometheus)}
        self._asked: dict[_Key, list[_Asked]] = {}
        self._batches: set[asyncio.Task[None]] = set()

    def _nodes(self) -> dict[str, Node]:
        """The nodes by name (a cluster attached to lists them once asked)."""
        return {node.container: node for node in self.runtime.layout.nodes}

    @property
    def _helpers(self) -> HelperPods:
        return self._given_helpers or HelperPods(self.runtime.plane, NET_HELPERS)

    async def all(self) -> list[Namespace]:
        """Every running pod of the stack and Prometheus, on a node that is up (a node
        that is down runs none), each named by its pod's uid (`container_id`: what
        its helper finds it by; a StatefulSet's replacement has the old name). A pod
        the API says runs whose node runs no process of it fails the helper that
        acts there: never a namespace left out unseen."""

        def read() -> list[Namespace]:
            found = []
            up: dict[str, bool] = {}
            nodes = self._nodes()
            for pod in self.runtime.cluster.pods():
                service = pod["metadata"].get("labels", {}).get(NAME_LABEL)
                status = pod.get("status", {})
                if (
                    service not in self._ports
                    or status.get("phase") != "Running"
                    or not status.get("podIP")
                    or pod["metadata"].get("deletionTimestamp")
                ):
                    continue
                node = nodes.get(pod["spec"].get("nodeName", ""))
                if node is None:
                    continue  # not one of ours
                if node.container not in up:
                    up[node.container] = self._node_state(node.container) == "running"
                if not up[node.container]:
                    continue  # down, with its pods
                found.append(
                    Namespace(
                        service=service,
                        container=pod["metadata"]["name"],
                        container_id=pod["metadata"]["uid"],
                        addresses=(status["podIP"], self.runtime.service_address(service)),
                        port=self._ports[service],
                        host=node.name,
                    )
                )
            order = {name: index for index, name in enumerate(self._ports)}
            return sorted(found, key=lambda ns: (order[ns.service], ns.container))

        return await asyncio.to_thread(read)

    async def _in_thread(self, work: Callable[[], T], where: str, what: str) -> T:
        """`work` in a thread of the layer's own (a step's helpers run side by side:
        each waits on its pod, about a second), within the helpers' time limit."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(HELPER_TIMEOUT_S + 15):
                return await loop.run_in_executor(_POOL, work)
        except TimeoutError:
            raise InstanceActionFailed(
                where, what, f"its helper pod did not end within {HELPER_TIMEOUT_S + 15:g}s"
            ) from None

    async def run(self, namespace: Namespace, argv: Sequence[str], run_id: str) -> str:
        """`argv` run in the pod's namespace by a helper pod on its node; its output.
        The commands asked meanwhile for pods on the same node, by the same run, share
        that helper (`_batch`)."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()
        key = (loop, namespace.host, run_id)
        asked = self._asked.setdefault(key, [])
        asked.append((namespace, pod_command(namespace.container_id, argv), answer))
        if len(asked) == 1:  # the first since the last batch left: a batch for them
            batch = loop.create_task(self._batch(key))
            self._batches.add(batch)
            batch.add_done_callback(self._batches.discard)
        return await answer

    async def _batch(self, key: _Key) -> None:
        """Every command asked for `key`'s node by the time the callers that asked with
        the first have run (a gather's), in helpers of up to BATCH commands each."""
        try:
            await asyncio.sleep(0)
        except BaseException:  # cancelled: so are they, and the next asked starts anew
            for _, _, answer in self._asked.pop(key, []):
                answer.cancel()
            raise
        asked = self._asked.pop(key, [])
        _, node, run_id = key
        chunks = [asked[i : i + BATCH] for i in range(0, len(asked), BATCH)]
        await asyncio.gather(*(self._run_batch(node, run_id, chunk) for chunk in chunks))

    async def _run_batch(self, node: str, run_id: str, asked: list[_Asked]) -> None:
        """Runs the commands and answers each of their callers, whatever happens."""
        try:
            if len(asked) == 1:
                await self._run_one(run_id, asked[0])
                return
            work = functools.partial(
                self._helpers.run, node, batch_command([script for _, script, _ in asked]),
                "network", where=node, in_pod=True, run_id=run_id, hint="batch",
            )  # fmt: skip
            try:
                results = batch_results(await self._in_thread(work, node, "network"), len(asked))
            except OutputLost:
                # they ran, and their output did not fit: each again on its own (what
                # runs twice is a read; a write's output is a line at most)
                await asyncio.gather(*(self._run_one(run_id, one) for one in asked))
                return
            for (namespace, _, answer), (status, text) in zip(asked, results, strict=True):
                if status == 0:
                    _answer(answer, text)
                else:
                    _fail(answer, InstanceActionFailed(
                        namespace.container, "network",
                        f"its command in a helper pod on {node} failed: "
                        f"{text.strip()[-300:] or 'no output'}; exit {status}",
                    ))  # fmt: skip
        except BaseException as exc:  # every caller answered: none waits forever
            for namespace, _, answer in asked:
                others = f" (with {len(asked) - 1} other commands)" if len(asked) > 1 else ""
                if isinstance(exc, Exception):
                    why = exc.why if isinstance(exc, InstanceActionFailed) else str(exc)
                    _fail(answer, InstanceActionFailed(
                        namespace.container, "network", f"on {node}{others}: {why}"
                    ))  # fmt: skip
                elif not answer.done():
                    answer.cancel()
            if not isinstance(exc, Exception):
                raise

    async def _run_one(self, run_id: str, asked: _Asked) -> None:
        namespace, script, answer = asked
        work = functools.partial(
            self._helpers.run, namespace.host, script, "network", where=namespace.container,
            in_pod=True, run_id=run_id, hint=namespace.service,
        )  # fmt: skip
        try:
            _answer(answer, await self._in_thread(work, namespace.container, "network"))
        except Exception as exc:  # noqa: BLE001 - handed to the command's caller
            _fail(answer, exc)

    async def expire(
        self, namespace: Namespace, script: str, after_s: float, run_id: str, name: str
    ) -> None:
        command = pod_command(namespace.container_id, ["sh", "-c", script])
        work = functools.partial(
            self._helpers.start, namespace.host, command, name, after_s=after_s, in_pod=True,
            run_id=run_id, where=namespace.container,
        )  # fmt: skip
        await self._in_thread(work, namespace.container, "ttl helper")

    async def helpers(self, *, stale_only: bool = False) -> list[str]:
        """This cluster's network helper pods, but those deleted whose process has ended
        (they can do nothing, and go by themselves). `stale_only`: those a killed
        runner left that may still act (not one that ended: its TTL acted, or its
        batch ran)."""

        def read() -> list[str]:
            now = time.time()
            return sorted(
                pod["metadata"]["name"]
                for pod in self._helpers.listed()
                if not (pod["metadata"].get("deletionTimestamp") and ended(pod))
                and (not stale_only or (stale(pod, now) and not ended(pod)))
            )

        return await asyncio.to_thread(read)

    async def remove_helper(self, name: str) -> None:
        """Delete the helper pod and return once its process has ended (one already
        gone, or on a node that is down, is no error: it cannot act)."""

        def down(pod: Mapping[str, Any]) -> bool:
            node = self._nodes().get(pod.get("spec", {}).get("nodeName", ""))
            return node is not None and self._node_state(node.container) != "running"

        work = functools.partial(self._helpers.delete, name, inert=down)
        await self._in_thread(work, name, "remove")


def _answer(answer: asyncio.Future[str], output: str) -> None:
    if not answer.done():  # else its caller gave up
        answer.set_result(output)


def _fail(answer: asyncio.Future[str], error: BaseException) -> None:
    if not answer.done():
        answer.set_exception(error)


#: The threads the helpers wait in: a step acts in every pod of a service or two.
_POOL = concurrent.futures.ThreadPoolExecutor(16, thread_name_prefix="pod-helper")
