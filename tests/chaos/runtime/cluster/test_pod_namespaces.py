"""Which pods' namespaces the cluster's network faults act in, from a scripted pod list
and node states: every pod the API says runs on a node that is up, by its uid, with
its pod and Service addresses (the real nodes, and the helper pods that enter the
namespaces: tests/cluster/test_stack_on_cluster.py)."""

from __future__ import annotations

import asyncio
import shlex
import subprocess
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import pytest

from chaos.runtime.cluster import netns
from chaos.runtime.cluster.control_plane import ControlPlaneFailed
from chaos.runtime.cluster.helper_pods import OutputLost
from chaos.runtime.cluster.netns import PodNamespaces
from chaos.runtime.cluster.nodes import ClusterLayout
from chaos.runtime.cluster.runtime import PROMETHEUS
from chaos.runtime.errors import InstanceActionFailed
from chaos.runtime.network import Namespace
from chaos.runtime.stack import STACK

LAYOUT = ClusterLayout("cb")
SERVICE_ADDRESSES = {"catalog": "10.96.0.10", "playback": "10.96.0.20", "prometheus": "10.96.0.9"}


def pod(name: str, node: str, ip: str, *, deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}",
        "labels": {"app.kubernetes.io/name": name.rsplit("-", 1)[0]},
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-05T18:00:00Z"
    return {
        "metadata": metadata,
        "spec": {"nodeName": node},
        "status": {"phase": "Running", "podIP": ip},
    }


@dataclass
class Cluster:
    listed: list[dict[str, Any]]

    def pods(self) -> list[dict[str, Any]]:
        return self.listed


@dataclass
class Runtime:
    cluster: Cluster
    services: tuple[Any, ...] = STACK
    layout: ClusterLayout = LAYOUT

    def service_address(self, service: str) -> str:
        return SERVICE_ADDRESSES[service]


@dataclass
class Nodes:
    """Each node container's state."""

    states: dict[str, str] = field(default_factory=dict)

    def state(self, name: str) -> str:
        return self.states.get(name, "running")


def namespaces(pods: list[dict[str, Any]], nodes: Nodes) -> PodNamespaces:
    return PodNamespaces(
        Runtime(Cluster(pods)),  # type: ignore[arg-type]
        PROMETHEUS,
        node_state=nodes.state,
    )


PODS = [
    pod("catalog-a", "cb-us", "10.244.1.2"),
    pod("catalog-b", "cb-eu", "10.244.2.2"),
    pod("playback-a", "cb-eu", "10.244.2.3"),
    pod("prometheus-x", "cb-us", "10.244.1.9"),
]


async def test_every_running_pod_by_its_uid_with_its_node_and_both_addresses() -> None:
    found = await namespaces(PODS, Nodes()).all()
    assert [(ns.container, ns.container_id, ns.host, ns.addresses, ns.port) for ns in found] == [
        ("catalog-a", "uid-catalog-a", "cb-us", ("10.244.1.2", "10.96.0.10"), 8081),
        ("catalog-b", "uid-catalog-b", "cb-eu", ("10.244.2.2", "10.96.0.10"), 8081),
        ("playback-a", "uid-playback-a", "cb-eu", ("10.244.2.3", "10.96.0.20"), 8083),
        ("prometheus-x", "uid-prometheus-x", "cb-us", ("10.244.1.9", "10.96.0.9"), 9090),
    ]


async def test_a_node_that_is_down_has_no_namespaces_and_a_pod_being_deleted_none() -> None:
    nodes = Nodes({"cb-eu": "exited"})
    pods = [*PODS[:1], pod("catalog-c", "cb-us", "10.244.1.5", deleting=True), *PODS[1:]]
    found = await namespaces(pods, nodes).all()
    assert [ns.container for ns in found] == ["catalog-a", "prometheus-x"]


async def test_a_pod_not_running_or_without_an_address_or_on_no_node_of_ours_has_none() -> None:
    pending = pod("catalog-p", "cb-us", "")
    stranger = pod("catalog-s", "elsewhere", "10.1.1.1")
    done = pod("catalog-d", "cb-us", "10.244.1.7")
    done["status"]["phase"] = "Succeeded"
    found = await namespaces([pending, stranger, done, *PODS[:1]], Nodes()).all()
    assert [ns.container for ns in found] == ["catalog-a"]


@dataclass
class ShellHelpers:
    """Helper pods whose scripts a real shell runs here (`pod_command` made to run the
    command in place: no pod to enter); each helper made is kept, with its node.
    `after_batch`: what a batch's helper raises once its script has run (the batches
    whose script has `failing` in it)."""

    made: list[tuple[str, str]] = field(default_factory=list)
    after_batch: list[Exception] = field(default_factory=list)
    failing: str = ""

    def run(self, node: str, script: str, what: str, **_: object) -> str:
        self.made.append((node, script))
        done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False)
        if script.startswith("batch=") and self.failing in script and self.after_batch:
            raise self.after_batch.pop(0)
        if done.returncode != 0:
            raise InstanceActionFailed(node, what, f"exit {done.returncode}: {done.stdout}")
        return done.stdout


@pytest.fixture
def in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns, "pod_command", lambda _uid, argv: shlex.join(argv))


def shell_namespaces(helpers: ShellHelpers) -> PodNamespaces:
    return PodNamespaces(
        Runtime(Cluster(PODS)),  # type: ignore[arg-type]
        PROMETHEUS,
        node_state=Nodes().state,
        helpers=helpers,  # type: ignore[arg-type]
    )


def each_says_its_name(layer: PodNamespaces, found: list[Namespace]) -> list[Awaitable[str]]:
    """A command in each namespace, asked at once, that prints the pod's name."""
    return [layer.run(ns, ["sh", "-c", f"echo {ns.container}"], "r1") for ns in found]


@pytest.mark.usefixtures("in_place")
async def test_commands_asked_at_once_share_one_helper_pod_per_node() -> None:
    helpers = ShellHelpers()
    layer = shell_namespaces(helpers)
    found = await layer.all()
    said = await asyncio.gather(*each_says_its_name(layer, found))
    assert said == [f"{ns.container}\n" for ns in found]
    assert sorted(node for node, _ in helpers.made) == ["cb-eu", "cb-us"]  # not four


@pytest.mark.usefixtures("in_place")
async def test_a_failed_command_of_a_batch_fails_only_its_caller_saying_why() -> None:
    helpers = ShellHelpers()
    layer = shell_namespaces(helpers)
    found = [ns for ns in await layer.all() if ns.host == "cb-us"]
    argvs = [["sh", "-c", "echo no such chain >&2; exit 3"], ["echo", "fine"]]
    asked = (layer.run(ns, argv, "r1") for ns, argv in zip(found, argvs, strict=True))
    said = await asyncio.gather(*asked, return_exceptions=True)
    assert isinstance(said[0], InstanceActionFailed)
    assert "catalog-a" in str(said[0]) and "no such chain; exit 3" in str(said[0])
    assert said[1] == "fine\n"
    assert len(helpers.made) == 1


@pytest.mark.usefixtures("in_place")
async def test_a_batch_whose_output_did_not_fit_runs_each_command_alone() -> None:
    lost = OutputLost("cb-us", "network", "its helper h: it reached the 4096-byte limit")
    helpers = ShellHelpers(after_batch=[lost])
    layer = shell_namespaces(helpers)
    found = [ns for ns in await layer.all() if ns.host == "cb-us"]
    said = await asyncio.gather(*each_says_its_name(layer, found))
    assert said == ["catalog-a\n", "prometheus-x\n"]
    assert len(helpers.made) == 1 + len(found)


@pytest.mark.usefixtures("in_place")
async def test_a_batch_that_failed_otherwise_fails_its_callers_and_runs_nothing_again() -> None:
    """Its commands may have run (it timed out, or was evicted): a write run again
    would fail on its own rules ("Chain already exists") and hide why."""
    timed_out = InstanceActionFailed("cb-us", "network", "its helper pod h was Running after 60s")
    helpers = ShellHelpers(after_batch=[timed_out])
    layer = shell_namespaces(helpers)
    found = [ns for ns in await layer.all() if ns.host == "cb-us"]
    said = await asyncio.gather(*each_says_its_name(layer, found), return_exceptions=True)
    assert [str(e) for e in said] == [
        f"cannot network {ns.container}: on cb-us (with 1 other commands): "
        "its helper pod h was Running after 60s"
        for ns in found
    ]
    assert len(helpers.made) == 1


@pytest.mark.usefixtures("in_place")
async def test_a_failed_helper_fails_only_the_commands_it_ran() -> None:
    """The API failing one helper of a node's two: the other's callers have their answer."""
    helpers = ShellHelpers(after_batch=[ControlPlaneFailed("HTTP 503")], failing="echo 0\n")
    layer = shell_namespaces(helpers)
    (catalog, *_) = await layer.all()
    count = netns.BATCH + 2
    said = await asyncio.gather(
        *(layer.run(catalog, ["echo", str(i)], "r1") for i in range(count)),
        return_exceptions=True,
    )
    assert len(helpers.made) == 2
    failed = [e for e in said if isinstance(e, InstanceActionFailed)]
    assert len(failed) == netns.BATCH and "HTTP 503" in str(failed[0])
    assert said[netns.BATCH :] == [f"{i}\n" for i in range(netns.BATCH, count)]


@pytest.mark.usefixtures("in_place")
def test_a_command_left_by_a_closed_event_loop_holds_up_none_asked_later() -> None:
    helpers = ShellHelpers()
    layer = shell_namespaces(helpers)

    async def asked_then_gone() -> None:  # its loop closes before the batch ran
        (catalog, *_) = await layer.all()
        asyncio.get_running_loop().create_task(layer.run(catalog, ["echo", "gone"], "r1"))
        await asyncio.sleep(0)

    async def asked_again() -> str:
        (catalog, *_) = await layer.all()
        return await asyncio.wait_for(layer.run(catalog, ["echo", "again"], "r1"), 10)

    asyncio.run(asked_then_gone())
    assert asyncio.run(asked_again()) == "again\n"


@pytest.mark.usefixtures("in_place")
async def test_no_helper_runs_more_than_a_batch_and_commands_asked_apart_are_not_held() -> None:
    helpers = ShellHelpers()
    layer = shell_namespaces(helpers)
    (catalog, *_) = await layer.all()
    many = await asyncio.gather(*(layer.run(catalog, ["echo", str(i)], "r1") for i in range(13)))
    assert many == [f"{i}\n" for i in range(13)]
    assert len(helpers.made) == -(-13 // netns.BATCH)
    # one after another: each has a helper to itself, never held for a batch
    helpers.made.clear()
    assert [await layer.run(catalog, ["echo", str(i)], "r1") for i in range(2)] == ["0\n", "1\n"]
    assert [script for _, script in helpers.made] == ["echo 0", "echo 1"]
