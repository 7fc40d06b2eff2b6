"""A cut is verified on every address its peers have (in the cluster runtime a pod's
own and its Service's, which is what the callers' packets carry), and a path a
one-way cut leaves open on one; against a layer that answers the reach probe from
a table of what connects. (The real pods: tests/cluster/test_stack_on_cluster.py.)"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from chaos.experiment.model import NetworkFault, Step
from chaos.faults.base import Injection
from chaos.faults.errors import NotVerified
from chaos.faults.network import NetworkFaultDriver
from chaos.runtime.network import Namespace

# two pods of playback on two nodes, one of profiles; each with its Service's address
NAMESPACES = [
    Namespace("profiles", "profiles-0", "s1", ("10.244.1.4", "10.96.0.119"), 8084, "n-us"),
    Namespace("playback", "playback-a", "s2", ("10.244.1.2", "10.96.0.84"), 8083, "n-us"),
    Namespace("playback", "playback-b", "s3", ("10.244.3.2", "10.96.0.84"), 8083, "n-apac"),
    Namespace("prometheus", "prometheus-x", "s4", ("10.244.1.3", "10.96.0.203"), 9090, "n-us"),
]


class Table:
    """A NetworkLayer whose reach probe answers from `open`: (source pod, address) pairs
    that connect."""

    services = ("profiles", "playback")
    scraper = "prometheus"

    def __init__(
        self, open_: set[tuple[str, str]], namespaces: Sequence[Namespace] = tuple(NAMESPACES)
    ) -> None:
        self.open = open_
        self.namespaces = list(namespaces)
        self.probed: list[tuple[str, str]] = []
        self.dropped: dict[str, int] = {}  # loss probe: packets of 400 dropped, by pod

    async def all(self) -> list[Namespace]:
        return list(self.namespaces)

    async def run(self, namespace: Namespace, argv: Sequence[str], run_id: str) -> str:
        if argv[0] != "python3":  # iptables: nothing to model
            return ""
        if "statistic" in argv[2]:  # the loss probe: what this namespace's rules dropped
            dropped = self.dropped.get(namespace.container, 0)
            return json.dumps({"seen": 400, "dropped": dropped})
        targets = json.loads(argv[-1])
        self.probed += [(namespace.container, address) for address, _ in targets]
        return json.dumps([(namespace.container, a) in self.open for a, _ in targets])

    async def expire(self, *args: object) -> None:
        return None

    async def helpers(self, *, stale_only: bool = False) -> list[str]:
        return []

    async def remove_helper(self, name: str) -> None:
        return None


def everything_open() -> set[tuple[str, str]]:
    return {(ns.container, a) for ns in NAMESPACES for a in ("10.244.1.4", "10.96.0.119",
            "10.244.1.2", "10.244.3.2", "10.96.0.84")}  # fmt: skip


async def verify(layer: Table, fault: NetworkFault) -> Injection:
    step = Step("1-partition", fault, 0, 10)
    driver = NetworkFaultDriver(layer, run_id="20261205T010000-abcdef", tag="chaosbed-run-x")
    injection = Injection(step.name, "network", "under test")
    await driver.inject(step, injection, ttl=10.0)
    await driver.verify(step, injection)
    return injection


BOTH_WAYS = NetworkFault(kind="partition", between=(("playback",), ("profiles",)))


async def test_the_rules_name_the_peers_pod_and_service_addresses() -> None:
    cut = {(c, a) for c, a in everything_open() if not (c.startswith("playback") and
           a in ("10.244.1.4", "10.96.0.119")) and not (c == "profiles-0" and
           a in ("10.244.1.2", "10.244.3.2", "10.96.0.84"))}  # fmt: skip
    layer = Table(cut)
    injection = await verify(layer, BOTH_WAYS)
    assert injection.handle["peers"] == ["10.244.1.4", "10.96.0.119"]
    assert ("playback-a", "10.96.0.119") in layer.probed  # the Service's address probed
    assert ("playback-b", "10.244.1.4") in layer.probed  # and the pod's


async def test_a_cut_that_leaves_the_service_address_open_is_not_verified() -> None:
    # the pods cannot reach each other's pod addresses, but playback still reaches
    # profiles through its Service: the callers' path is open, the cut did not take
    leaky = {(c, a) for c, a in everything_open() if a not in ("10.244.1.4", "10.244.1.2",
             "10.244.3.2")}  # fmt: skip
    with pytest.raises(NotVerified) as error:
        await verify(Table(leaky), BOTH_WAYS)
    assert "playback reached profiles" in str(error.value)


async def test_the_open_direction_of_a_one_way_cut_needs_one_address() -> None:
    fault = NetworkFault(kind="partition", from_=("playback",), to=("profiles",))
    # profiles reaches playback at its pod addresses only (its Service's is not probed)
    open_ = {("profiles-0", "10.244.1.2"), ("profiles-0", "10.244.3.2")}
    layer = Table(open_)
    injection = await verify(layer, fault)
    assert "profiles reaches playback" in injection.verification
    assert ("profiles-0", "10.96.0.84") not in layer.probed


async def test_a_target_with_no_address_is_no_evidence_of_a_cut() -> None:
    second = Namespace("profiles", "profiles-1", "s5", (), 8084, "n-eu")
    layer = Table(set(), [*NAMESPACES, second])
    with pytest.raises(NotVerified, match=r"profiles \(profiles-1\) has no address to probe"):
        await verify(layer, BOTH_WAYS)


async def test_loss_is_measured_in_every_pod_that_holds_the_rules() -> None:
    layer = Table(set())
    layer.dropped = {"playback-a": 120}  # playback-b's rules drop nothing
    fault = NetworkFault(kind="loss", target="playback", percent=30)
    with pytest.raises(NotVerified) as error:
        await verify(layer, fault)
    said = str(error.value)
    assert "30.0% of 400 packets dropped in playback (playback-a)" in said
    assert "0.0% of 400 packets dropped in playback (playback-b)" in said
    layer.dropped["playback-b"] = 118
    injection = await verify(layer, fault)
    assert "playback (playback-b)" in injection.verification
