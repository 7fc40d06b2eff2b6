"""Node faults (the cluster runtime): a region's node stopped, cut off, or drained.

- `node_stop`: every process of the node (its kubelet, its engine, its pods)
  SIGKILLed at once. Verified when the node's machine is down (the runtime's
  `processes` then says none of its pods' runs: they ended with it); rolled
  back by starting it.
- `node_partition`: iptables rules in the node's network namespace, put there
  by a short-lived helper pod on the node: its traffic with the other nodes and
  their pods is dropped, both ways. Verified from inside: probes from the node
  to a pod on each other node, and from each other node to a pod on it, all
  fail (helper pods too). Rolled back by removing the chain, then the probes
  get through again.
- `node_drain`: the node cordoned and every pod of the stack on it evicted
  through the API (as `kubectl drain` does: each stopped within its grace
  period; a Deployment starts its pod again on another node, a profiles
  replica, bound to its region, waits Pending). Verified when the node is
  cordoned, every pod of the stack on it is gone or being deleted with its
  containers terminated and no process left in its cgroup, and none of the
  processes seen at the cordon runs; rolled back by uncordoning it.

The rollbacks end once every node and every pod of the stack is Ready
again. The node running the stack's Prometheus is refused (it judges the run:
a run cannot watch its SLOs without it), as is a node that is not up and
Ready when the step begins. The effect is what callers and members of the
services with pods on the node saw (failed calls, fallbacks, failed
journeys). What a killed runner left (a stopped node, a cut, a helper pod) is
found and undone by `chaosbed cleanup`, as is a node left cordoned.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable

from chaos.experiment.model import NodeFault, Step
from chaos.runtime.errors import InstanceActionFailed
from chaos.runtime.interface import Runtime
from chaos.runtime.node_layer import CUT_CHAIN_PREFIX, NodeLayer
from chaos.slo import SliReader

from . import effect
from .base import Injection
from .errors import InjectionFailed, NotVerified, RollbackFailed

__all__ = ["NodeFaultDriver"]

SCRAPER = "prometheus"


class NodeFaultDriver:
    layer = "node"

    def __init__(
        self,
        runtime: Runtime,
        nodes: NodeLayer,
        *,
        verify_timeout: float = 20.0,
        drain_timeout: float = 60.0,
        ready_timeout: float = 180.0,
        poll: float = 0.5,
        effect_grace: float = effect.GRACE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._runtime = runtime
        self._nodes = nodes
        self._verify_timeout = verify_timeout
        # an evicted pod stops within its grace period (10 s), then its kubelet has to
        # see it stopped: a busy node took more than 20 s (as `kubectl drain`, wait)
        self._drain_timeout = drain_timeout
        self._ready_timeout = ready_timeout
        # what the runner gives a rollback (its default, 20 s, cut drains short: a
        # profiles replica's pod is made again only once its kubelet let go of the
        # evicted one, up to a minute later): the wait for a settled cluster, and more
        self.rollback_timeout = ready_timeout + 30.0
        self._poll = poll
        self._effect_grace = effect_grace
        self._clock = clock

    def accepts(self, step: Step) -> bool:
        return isinstance(step.fault, NodeFault)

    def _peers(self, region: str) -> list[str]:
        return [peer for peer in self._nodes.regions if peer != region]

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None:
        fault = step.fault
        assert isinstance(fault, NodeFault)
        before = await self._nodes.node(fault.region)
        if not (before.running and before.ready and before.schedulable):
            raise InjectionFailed(
                step.name,
                f"the node of {fault.region} ({before.name}) is not up, Ready and schedulable",
            )
        if any(pod.startswith(f"{SCRAPER}-") for pod in before.pods):
            raise InjectionFailed(
                step.name,
                f"the node of {fault.region} ({before.name}) runs {SCRAPER}, which judges the "
                "run: choose another region's node",
            )
        services = sorted(
            {i.service for i in await self._runtime.instances() if i.instance in before.pods}
        )
        injection.handle.update(
            node=before.name, region=fault.region, pods=list(before.pods),
            pids=list(before.pids), services=services,
        )  # fmt: skip
        if fault.kind == "node_stop":
            injection.handle["stopped_at"] = time.time()
            await _finished(self._nodes.stop(fault.region))
            return
        if fault.kind == "node_drain":
            if before.unread:  # what ends must be seen to end
                raise InjectionFailed(
                    step.name, f"the processes on the node of {fault.region} ({before.name}) "
                    f"are not read, so their end could not be: {before.unread}",
                )  # fmt: skip
            if not before.live_pods:  # those left are ending anyway
                raise InjectionFailed(
                    step.name, f"the node of {fault.region} ({before.name}) runs no pod of the "
                    "stack: nothing to drain",
                )  # fmt: skip
            drain = asyncio.ensure_future(self._nodes.drain(fault.region))
            await _finished(drain)
            cordoned = drain.result()  # what it evicted: a pod bound since is among them
            injection.handle.update(pods=list(cordoned.live_pods), pids=list(cordoned.pids))
            if cordoned.unread:  # evicted, but which processes must end is not known
                raise InjectionFailed(
                    step.name, f"the processes on the node of {fault.region} were not read "
                    f"once it was cordoned: {cordoned.unread}",
                )  # fmt: skip
            return
        before_cut = await self._reach(fault.region)
        if not all(before_cut.values()):
            blocked = ", ".join(pair for pair, ok in before_cut.items() if not ok)
            raise InjectionFailed(
                step.name, f"before the cut, {blocked} already fail: nothing to cut off"
            )
        chain = CUT_CHAIN_PREFIX + secrets.token_hex(4)
        injection.handle["chain"] = chain  # before the cut: a failed cut is still removed
        await _finished(self._nodes.cut(fault.region, chain))

    async def _reach(self, region: str) -> dict[str, bool]:
        """Whether the node of `region` reaches each other node, and each reaches it."""
        pairs = [
            (a, b) for peer in self._peers(region) for a, b in ((region, peer), (peer, region))
        ]
        found = await asyncio.gather(*(self._nodes.reaches(a, b) for a, b in pairs))
        return {f"{a} -> {b}": ok for (a, b), ok in zip(pairs, found, strict=True)}

    async def _back(self, fault: NodeFault, stopped_at: float | None, started_at: float) -> bool:
        """After a node_stop, is the node's kubelet really back (a Ready heartbeat after
        the start, not the stale one the API kept) with every pod of the stack on it in
        a container started after the stop? (Always, after a cut.)"""
        if stopped_at is None:
            return True
        node = await self._nodes.node(fault.region)
        return (
            node.running
            and node.ready
            and node.heartbeat is not None
            and node.heartbeat >= int(started_at)  # the API keeps whole seconds
            and node.oldest_start is not None
            and node.oldest_start >= int(stopped_at)
        )

    async def verify(self, step: Step, injection: Injection) -> None:
        fault = step.fault
        assert isinstance(fault, NodeFault)
        drain = fault.kind == "node_drain"
        timeout = self._drain_timeout if drain else self._verify_timeout
        deadline = self._clock() + timeout
        if fault.kind == "node_partition":
            while True:
                try:
                    reach = await self._reach(fault.region)
                    why = ", ".join(pair for pair, ok in reach.items() if ok) + " still get through"
                except InstanceActionFailed as exc:  # a probe that neither got through nor
                    reach, why = {"?": True}, str(exc)  # failed to connect proves nothing
                if not any(reach.values()):
                    break
                if self._clock() >= deadline:
                    raise NotVerified(
                        step.name, f"the node of {fault.region} is not cut off: {why}"
                    )
                await asyncio.sleep(self._poll)
            injection.verification = (
                f"node {injection.handle['node']} ({fault.region}) cut off: probes from inside "
                f"failed both ways ({', '.join(reach)})"
            )
            return
        pids = set(injection.handle["pids"])
        while True:
            left = False
            try:
                now = await self._nodes.node(fault.region)
                if drain and now.unread:
                    raise InstanceActionFailed(now.name, "read", now.unread)
                if drain and now.schedulable:
                    state = "schedulable"
                elif drain and now.live_pods:  # evicted: containers ended (listing may lag)
                    state = f"running {', '.join(now.live_pods)}"
                elif not drain and now.running:
                    state = "up"
                else:  # the rest is over: are the processes seen before? (asked only now)
                    alive = await self._nodes.processes(fault.region, pids)
                    left = not alive
                    state = "running pids [" + ", ".join(alive[p] for p in sorted(alive)) + "]"
            except InstanceActionFailed as exc:  # not read: nothing says it is over
                state = f"not read ({exc})"
            if left:
                break
            if self._clock() >= deadline:
                raise NotVerified(
                    step.name,
                    f"the node of {fault.region} is still {state} {timeout:g}s "
                    f"after it was {'drained' if drain else 'stopped'}",
                )
            await asyncio.sleep(self._poll)
        pods = ", ".join(injection.handle["pods"]) or "no pod of the stack"
        listed = (
            f"; {', '.join(now.stopped)} stopped, still listed until the node's kubelet "
            "removes their containers" if now.stopped else ""
        )  # fmt: skip
        injection.verification = (
            f"node {injection.handle['node']} ({fault.region}) cordoned, {pods} evicted "
            f"({len(pids)} processes ended{listed})"
            if drain
            else f"node {injection.handle['node']} ({fault.region}) down: {pods} gone "
            f"({len(pids)} processes)"
        )

    async def confirm_effect(
        self, step: Step, injection: Injection, reader: SliReader, since: float
    ) -> None:
        fault = step.fault
        assert isinstance(fault, NodeFault)
        looks = [
            look
            for service in injection.handle["services"]
            for look in (
                *effect.calls(dependency=service),
                *effect.calls(caller=service),
                *effect.members(service),
            )
        ]
        injection.effect = await effect.confirm(
            step.name,
            f"{fault.kind} of {fault.region}",
            looks,
            reader,
            since,
            grace=self._effect_grace,
            clock=self._clock,
        )

    async def rollback(self, step: Step, injection: Injection) -> None:
        fault = step.fault
        assert isinstance(fault, NodeFault)
        if "node" not in injection.handle:
            return  # refused before anything was done
        started = self._clock()
        started_at = time.time()
        try:
            if fault.kind == "node_stop":
                await _finished(self._nodes.start(fault.region))
                if not (await self._nodes.node(fault.region)).running:
                    raise RuntimeError("it is still down after its start")
                done = f"node {injection.handle['node']} started"
            elif fault.kind == "node_drain":
                await self._nodes.uncordon(fault.region)
                if not (await self._nodes.node(fault.region)).schedulable:
                    raise RuntimeError("it is still cordoned after its uncordon")
                done = f"node {injection.handle['node']} uncordoned"
            else:
                await self._nodes.uncut(fault.region, injection.handle["chain"])
                reach = await self._reach(fault.region)
                blocked = [pair for pair, ok in reach.items() if not ok]
                if blocked:
                    raise RuntimeError(f"the chain is gone, but {', '.join(blocked)} still fail")
                done = f"node {injection.handle['node']}'s cut removed, probes get through"
        except Exception as exc:  # noqa: BLE001 - the runtime's own error, named
            raise RollbackFailed(step.name, f"the node of {fault.region}: {exc}") from exc
        deadline = started + self._ready_timeout
        while not (
            await self._nodes.settled()
            and await self._back(fault, injection.handle.get("stopped_at"), started_at)
        ):
            if self._clock() >= deadline:
                raise RollbackFailed(
                    step.name,
                    f"{done}, but the cluster was not settled (every node and pod Ready) "
                    f"{self._ready_timeout:g}s later",
                )
            await asyncio.sleep(self._poll)
        injection.rollback = (
            f"{done}; every node and pod Ready {self._clock() - started:.0f}s later"
        )


async def _finished(action: Awaitable[object]) -> None:
    """Await `action` to its end even when the step is cancelled meanwhile (an abort):
    the rollback that follows must find the node as the action left it, not have the
    action land after it."""
    task = asyncio.ensure_future(action)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise
