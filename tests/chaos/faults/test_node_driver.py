"""The node faults' driver against a scripted node layer: what it refuses before
touching anything, and what it does not take as proof (the real nodes:
tests/cluster/test_stack_on_cluster.py)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import replace
from typing import Any

import pytest

from chaos.experiment.model import NodeFault, Step
from chaos.faults.base import Injection
from chaos.faults.errors import InjectionFailed, NotVerified, RollbackFailed
from chaos.faults.node import NodeFaultDriver
from chaos.runtime.cluster.pod_processes import running
from chaos.runtime.errors import InstanceActionFailed
from chaos.runtime.node_layer import NodeState
from tests.chaos.runtime.standin_runtime import StandinRuntime

REGIONS = ("us", "eu", "apac")


class Nodes:
    """Three nodes, all up and Ready; each method records what it was asked."""

    def __init__(self) -> None:
        earlier = time.time() - 60  # the last heartbeat and container starts, before any fault
        self.states = {
            r: NodeState(f"node-{r}", r, True, True, (f"catalog-{r}",), (), earlier, earlier)
            for r in REGIONS
        }
        self.actions: list[str] = []
        self.answers: dict[tuple[str, str], bool | Exception] = {}
        self.unread: str | None = None  # why the nodes' processes cannot be read
        self.asked_processes = 0

    @property
    def regions(self) -> tuple[str, ...]:
        return REGIONS

    async def node(self, region: str) -> NodeState:
        return self.states[region]

    async def processes(self, region: str, pids: set[int]) -> dict[int, str]:
        """This machine's processes: a test's own stand for a pod's."""
        self.asked_processes += 1
        if self.unread is not None:
            raise InstanceActionFailed(f"node-{region}", "read", self.unread)
        return running(pids)

    async def stop(self, region: str) -> NodeState:
        self.actions.append(f"stop {region}")
        before = self.states[region]
        self.states[region] = replace(before, running=False)
        return before

    async def start(self, region: str) -> NodeState:
        self.actions.append(f"start {region}")
        before = self.states[region]
        self.states[region] = replace(before, running=True)  # the API still says Ready
        return before

    async def drain(self, region: str) -> NodeState:
        self.actions.append(f"drain {region}")
        cordoned = replace(self.states[region], schedulable=False, drained=True)
        self.states[region] = cordoned  # its pods still on it, being evicted
        return cordoned

    async def uncordon(self, region: str) -> None:
        self.actions.append(f"uncordon {region}")
        self.states[region] = replace(self.states[region], schedulable=True, drained=False)

    async def settled(self) -> bool:
        return True

    async def cut(self, region: str, chain: str) -> None:
        self.actions.append(f"cut {region}")

    async def uncut(self, region: str, chain: str) -> None:
        self.actions.append(f"uncut {region}")

    async def reaches(self, region: str, peer: str) -> bool:
        answer = self.answers.get((region, peer), True)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def leftovers(self) -> list[str]:
        return []

    async def remove_leftovers(self) -> list[str]:
        return []


def driver(
    nodes: Nodes,
    verify_timeout: float = 5.0,
    ready_timeout: float = 5.0,
    drain_timeout: float = 5.0,
) -> NodeFaultDriver:
    return NodeFaultDriver(
        StandinRuntime(),
        nodes,
        verify_timeout=verify_timeout,
        drain_timeout=drain_timeout,
        ready_timeout=ready_timeout,
        poll=0.01,
    )


def step(kind: str, region: str = "eu") -> Step:
    return Step(f"1-{kind}", NodeFault(kind, region), 0.0, 5.0)  # type: ignore[arg-type]


async def test_the_node_running_the_scraper_is_refused_and_nothing_is_touched() -> None:
    nodes = Nodes()
    nodes.states["us"] = replace(nodes.states["us"], pods=("prometheus-5d9f-x2", "catalog-1"))
    injection = Injection("1-node_stop", "node", "")
    with pytest.raises(InjectionFailed, match="runs prometheus, which judges the run"):
        await driver(nodes).inject(step("node_stop", "us"), injection, ttl=10)
    assert nodes.actions == []
    await driver(nodes).rollback(step("node_stop", "us"), injection)
    assert nodes.actions == []  # nothing to undo


async def test_a_node_that_already_cannot_reach_a_peer_is_not_cut_and_not_called_cut() -> None:
    nodes = Nodes()
    nodes.answers[("apac", "eu")] = False  # broken before any fault
    with pytest.raises(InjectionFailed, match="apac -> eu already fail"):
        await driver(nodes).inject(step("node_partition"), Injection("s", "node", ""), ttl=10)
    assert nodes.actions == []


async def test_a_probe_answered_with_an_error_is_no_proof_of_a_cut() -> None:
    nodes = Nodes()
    fault, injection = step("node_partition"), Injection("s", "node", "")
    await driver(nodes).inject(fault, injection, ttl=10)
    for peer in ("us", "apac"):  # every probe fails, but one with an HTTP answer
        nodes.answers[("eu", peer)] = nodes.answers[(peer, "eu")] = False
    nodes.answers[("us", "eu")] = InstanceActionFailed("node-eu", "probe", "answered '503'")
    with pytest.raises(NotVerified, match="answered '503'"):
        await driver(nodes, verify_timeout=0.1).verify(fault, injection)
    nodes.answers[("us", "eu")] = False
    await driver(nodes).verify(fault, injection)
    assert "cut off: probes from inside failed both ways" in injection.verification


async def test_a_stopped_node_is_not_back_while_its_ready_status_is_the_stale_one() -> None:
    nodes = Nodes()
    fault, injection = step("node_stop"), Injection("s", "node", "")
    stale = nodes.states["eu"].heartbeat
    await driver(nodes).inject(fault, injection, ttl=10)
    with pytest.raises(RollbackFailed, match="not settled"):
        await driver(nodes, ready_timeout=0.2).rollback(fault, injection)
    assert nodes.actions == ["stop eu", "start eu"]
    assert nodes.states["eu"].heartbeat == stale  # the API's Ready from before the stop
    # its pods in new containers, but no heartbeat since the start: not back yet
    later = time.time() + 1
    nodes.states["eu"] = replace(nodes.states["eu"], oldest_start=later)
    with pytest.raises(RollbackFailed, match="not settled"):
        await driver(nodes, ready_timeout=0.2).rollback(fault, injection)
    # the kubelet reports again: back
    nodes.states["eu"] = replace(nodes.states["eu"], heartbeat=later)
    await driver(nodes).rollback(fault, injection)
    assert injection.rollback.startswith("node node-eu started; every node and pod Ready")


LISTED = "; catalog-eu stopped, still listed until the node's kubelet removes their containers"


# gone from the listing, or (a kubelet removes a dead container of a deleted pod on
# its next collection, every minute, and only then the pod goes) still listed, stopped
@pytest.mark.parametrize(
    ("ended", "listed"), [({"pods": ()}, ""), ({"stopped": ("catalog-eu",)}, LISTED)]
)
async def test_a_drain_is_verified_only_once_its_pods_and_processes_are_gone(
    ended: dict[str, Any], listed: str
) -> None:
    nodes = Nodes()
    evicted = subprocess.Popen(["sleep", "30"])  # a pod's process, still stopping
    nodes.states["eu"] = replace(nodes.states["eu"], pids=(evicted.pid,))
    fault, injection = step("node_drain"), Injection("s", "node", "")
    try:
        await driver(nodes).inject(fault, injection, ttl=10)
        assert nodes.actions == ["drain eu"]
        # cordoned, but the evicted pod is still bound to the node (terminating)
        with pytest.raises(NotVerified, match="still running catalog-eu 0.1s after it was drain"):
            await driver(nodes, drain_timeout=0.1).verify(fault, injection)
        assert nodes.asked_processes == 0  # its processes asked for once its pods are over
        # its pod ended, but its process has not ended yet
        nodes.states["eu"] = replace(nodes.states["eu"], **ended)
        said = f"still running pids \\[{evicted.pid} \\(state S, parent {os.getpid()}, 'sleep 30'"
        with pytest.raises(NotVerified, match=said):
            await driver(nodes, drain_timeout=0.1).verify(fault, injection)
    finally:
        evicted.kill()
        evicted.wait()
    nodes.unread = "its node agent did not answer"  # ended, or not: nothing says
    with pytest.raises(NotVerified, match="not read .*its node agent did not answer"):
        await driver(nodes, drain_timeout=0.1).verify(fault, injection)
    nodes.unread = None
    await driver(nodes).verify(fault, injection)
    assert injection.verification == (
        f"node node-eu (eu) cordoned, catalog-eu evicted (1 processes ended{listed})"
    )
    await driver(nodes).rollback(fault, injection)
    assert nodes.actions == ["drain eu", "uncordon eu"]
    assert injection.rollback.startswith("node node-eu uncordoned; every node and pod Ready")


async def test_a_node_with_no_pod_of_the_stack_is_not_drained() -> None:
    nodes = Nodes()
    nodes.states["eu"] = replace(nodes.states["eu"], pods=())
    with pytest.raises(InjectionFailed, match="runs no pod of the stack: nothing to drain"):
        await driver(nodes).inject(step("node_drain"), Injection("s", "node", ""), ttl=10)
    # nor one whose pods are all ending already (deleted by someone else): its drain
    # would be verified at once, on evidence of nothing it did
    nodes.states["eu"] = replace(nodes.states["eu"], pods=("catalog-eu",), stopped=("catalog-eu",))
    with pytest.raises(InjectionFailed, match="runs no pod of the stack: nothing to drain"):
        await driver(nodes).inject(step("node_drain"), Injection("s", "node", ""), ttl=10)
    assert nodes.actions == []


async def test_a_pod_already_ending_is_not_counted_among_those_a_drain_evicted() -> None:
    nodes = Nodes()
    both = ("catalog-eu", "playback-eu")
    nodes.states["eu"] = replace(nodes.states["eu"], pods=both, stopped=("playback-eu",))
    fault, injection = step("node_drain"), Injection("s", "node", "")
    await driver(nodes).inject(fault, injection, ttl=10)
    assert injection.handle["pods"] == ["catalog-eu"]


async def test_a_cordoned_node_is_not_drained_again() -> None:
    nodes = Nodes()
    nodes.states["eu"] = replace(nodes.states["eu"], schedulable=False)  # left by someone
    with pytest.raises(InjectionFailed, match="is not up, Ready and schedulable"):
        await driver(nodes).inject(step("node_drain"), Injection("s", "node", ""), ttl=10)
    assert nodes.actions == []


async def test_a_drain_needs_the_node_s_processes_read_before_during_and_after() -> None:
    """A node whose processes cannot be read (its agent silent) has no pids and no
    stopped pods to offer: for want of evidence, not because nothing runs. A drain
    is refused before it starts, fails if the cordoned node is not read, and is
    not verified while it is not read."""
    nodes = Nodes()
    why = "its node agent on node-eu is not Ready"
    nodes.states["eu"] = replace(nodes.states["eu"], unread=why)
    with pytest.raises(InjectionFailed, match=f"are not read, so their end could not be: {why}"):
        await driver(nodes).inject(step("node_drain"), Injection("s", "node", ""), ttl=10)
    assert nodes.actions == []

    class Silenced(Nodes):  # read before, not once cordoned
        async def drain(self, region: str) -> NodeState:
            return replace(await super().drain(region), unread=why)

    silenced = Silenced()
    fault, injection = step("node_drain"), Injection("s", "node", "")
    with pytest.raises(InjectionFailed, match=f"not read once it was cordoned: {why}"):
        await driver(silenced).inject(fault, injection, ttl=10)
    assert silenced.actions == ["drain eu"]  # rolled back as any failed injection is
    await driver(silenced).rollback(fault, injection)
    assert silenced.actions == ["drain eu", "uncordon eu"]

    nodes = Nodes()
    fault, injection = step("node_drain"), Injection("s", "node", "")
    await driver(nodes).inject(fault, injection, ttl=10)
    # every pod gone and no pid to wait for, but the node not read: nothing says so
    nodes.states["eu"] = replace(nodes.states["eu"], pods=(), unread=why)
    with pytest.raises(NotVerified, match=f"still not read .*{why}"):
        await driver(nodes, drain_timeout=0.1).verify(fault, injection)
    nodes.states["eu"] = replace(nodes.states["eu"], unread=None)
    await driver(nodes).verify(fault, injection)


def test_the_runner_gives_a_node_rollback_the_time_its_wait_for_the_cluster_takes() -> None:
    """A drain's rollback waits until every pod is Ready again, which for a profiles
    replica comes a minute after the eviction at worst: the runner's 20 s per
    rollback cut one short ("rollback failed: timed out")."""
    for ready_timeout in (5.0, 180.0):
        assert driver(Nodes(), ready_timeout=ready_timeout).rollback_timeout > ready_timeout
