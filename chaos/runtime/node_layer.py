"""What a runtime with nodes offers the node faults (`Runtime.nodes`).

A runtime whose services run on the nodes of a cluster (the cluster runtime)
hands the node faults (chaos.faults.node) a `NodeLayer`; the process and
docker runtimes, on one machine, hand them None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["CUT_CHAIN_PREFIX", "NodeLayer", "NodeState"]

#: The iptables chains of the cuts between nodes (what cleanup looks for).
CUT_CHAIN_PREFIX = "CHAOSBED-CUT-"


@dataclass(frozen=True)
class NodeState:
    """One node, now: `running` (the machine is up), `ready` (its orchestrator sees it
    Ready), the stack's pods bound to it and the pids of their main processes, as the
    node numbers them;
    `heartbeat`, when (Unix time) the node last said it is Ready, and `oldest_start`,
    when the longest-running container of the stack's pods on it started (None:
    none runs); `schedulable`, False while it is cordoned; `drained`, whether a
    chaosbed drain cordoned it (cleanup uncordons those only); `stopped`, those of
    `pods` being deleted whose containers all ended (still listed until the node's
    kubelet removes their containers, which may take its next collection);
    `unread`, why its pods' processes could not be read (its machine up, nothing
    on it answering for them): `pids` and `stopped` are then empty for want of
    evidence, not because nothing runs."""

    name: str
    region: str
    running: bool
    ready: bool
    pods: tuple[str, ...] = ()
    pids: tuple[int, ...] = ()
    heartbeat: float | None = None
    oldest_start: float | None = None
    schedulable: bool = True
    drained: bool = False
    stopped: tuple[str, ...] = ()
    unread: str | None = None

    @property
    def live_pods(self) -> tuple[str, ...]:
        """Those of `pods` not stopped: what a drain still has to evict, or wait for."""
        return tuple(pod for pod in self.pods if pod not in self.stopped)


class NodeLayer(Protocol):
    @property
    def regions(self) -> tuple[str, ...]:
        """The regions, a node each."""
        ...

    async def node(self, region: str) -> NodeState:
        """The node of `region` now."""
        ...

    async def processes(self, region: str, pids: set[int]) -> dict[int, str]:
        """Those of `pids` (as NodeState.pids gave them) still running on the node, each
        described (state, parent, command, cgroup); none when its machine is down.
        InstanceActionFailed when they cannot be read: nothing then says they ended."""
        ...

    async def stop(self, region: str) -> NodeState:
        """Stop the node as a machine that lost its power (every process on it at
        once); returns it as it was just before."""
        ...

    async def start(self, region: str) -> NodeState:
        """Start a stopped node again; returns it as it was just before."""
        ...

    async def drain(self, region: str) -> NodeState:
        """Cordon the node, marked as drained by chaosbed, and evict every pod of the
        stack on it (each stopped gracefully, its controller to start it again where it
        can); returns it as it was once cordoned (the pods it evicted)."""
        ...

    async def uncordon(self, region: str) -> None:
        """Let pods be scheduled on the node again (and unmark it)."""
        ...

    async def settled(self) -> bool:
        """Is every node Ready and every pod of the stack Ready?"""
        ...

    async def cut(self, region: str, chain: str) -> None:
        """Cut the node of `region` off from the other nodes and their pods (both
        ways; not from the control plane, this machine or the stack's scraper):
        iptables rules in the node's network namespace, in the chain `chain`."""
        ...

    async def uncut(self, region: str, chain: str) -> None:
        """Remove the chain `chain` and its jumps from the node of `region`."""
        ...

    async def reaches(self, region: str, peer: str) -> bool:
        """Does the node of `region` reach a pod on the node of `peer` now (a probe
        from inside the node's network namespace)?"""
        ...

    async def leftovers(self) -> list[str]:
        """What a killed runner left: nodes down or cordoned by a drain, cuts still in
        place, helper pods."""
        ...

    async def remove_leftovers(self) -> list[str]:
        """Uncordon every node a drain left cordoned, remove every cut still in place
        and every helper left behind (a runner that was killed); what was done. (Nodes
        left down are started by their `start`.)"""
        ...
