"""A network fault's TTL: beside its inject, one helper per namespace that holds the
rules runs the same rollback when the TTL is over, so a runner or monkey killed
outright leaves nothing for longer; the rollback cancels those helpers before it
removes the rules itself. (The helpers acting for real: test_network_docker.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from chaos.experiment.model import NetworkFault, Step
from chaos.faults.base import Injection
from chaos.faults.errors import InjectionFailed, RollbackFailed
from chaos.faults.network import NetworkFaultDriver
from chaos.faults.network.driver import TTL_SLACK_S
from chaos.runtime.network import Namespace

NAMESPACES = [
    Namespace("catalog", "cb-catalog-1", "id-catalog", ("172.18.0.2",), 8081),
    Namespace("recommendations", "cb-recommendations-1", "id-rec", ("172.18.0.3",), 8082),
    Namespace("playback", "cb-playback-1", "id-playback", ("172.18.0.4",), 8083),
    Namespace("prometheus", "cb-prometheus-1", "id-prom", ("172.18.0.9",), 9090),
]


class Recording:
    """A NetworkLayer that records what it is asked, in order."""

    services = ("catalog", "recommendations", "playback")
    scraper = "prometheus"

    def __init__(self, *, failing: str = "", stuck: bool = False) -> None:
        self.calls: list[tuple[str, str, str]] = []  # (what, container or helper, script)
        self.expiries: dict[str, tuple[str, str, float]] = {}  # helper: (container, script, s)
        self.failing = failing
        self.stuck = stuck  # helpers that cannot be removed

    async def all(self) -> list[Namespace]:
        return list(NAMESPACES)

    async def run(self, namespace: Namespace, argv: Sequence[str], run_id: str) -> str:
        await asyncio.sleep(0)
        self.calls.append(("run", namespace.container, argv[-1]))
        if namespace.container == self.failing and "-N" in argv[-1]:
            raise RuntimeError("iptables: no such table")
        return ""

    async def expire(
        self, namespace: Namespace, script: str, after_s: float, run_id: str, name: str
    ) -> None:
        await asyncio.sleep(0.01)
        self.expiries[name] = (namespace.container, script, after_s)
        self.calls.append(("expire", name, script))

    async def helpers(self, *, stale_only: bool = False) -> list[str]:
        return list(self.expiries)

    async def remove_helper(self, name: str) -> None:
        self.calls.append(("remove", name, ""))
        if self.stuck:
            raise RuntimeError("the engine refused")
        self.expiries.pop(name, None)


def driver(layer: Recording) -> NetworkFaultDriver:
    return NetworkFaultDriver(layer, run_id="20261205T010000-abcdef", tag="chaosbed-run-x")


async def test_every_rule_holder_gets_a_helper_that_rolls_it_back_after_the_ttl() -> None:
    layer = Recording()
    net = driver(layer)
    cut = NetworkFault("partition", between=(("catalog", "recommendations"), ("playback",)))
    step = Step("cut", cut, 0, 20)
    injection = Injection(step.name, "network", "under test")
    await net.inject(step, injection, ttl=25.0)

    chain = injection.handle["chain"]
    holders = set(injection.handle["containers"])  # the first side holds a both-ways cut
    assert holders == {"cb-catalog-1", "cb-recommendations-1"}
    assert {c for c, _, _ in layer.expiries.values()} == holders
    for _, script, after in layer.expiries.values():
        assert after == 25.0 + TTL_SLACK_S  # the hold is counted after the inject and its checks
        assert f"iptables -w -X {chain}" in script and "-N" not in script
    assert sorted(injection.handle["expiry"]) == sorted(layer.expiries)

    await net.rollback(step, injection)
    removes = [i for i, (what, _, _) in enumerate(layer.calls) if what == "remove"]
    rollbacks = [i for i, (what, _, s) in enumerate(layer.calls) if what == "run" and "-X" in s]
    assert len(removes) == 2 and len(rollbacks) == 2
    assert max(removes) < min(rollbacks)  # the helpers go first: never two rollbacks at once
    assert layer.expiries == {}


async def test_a_bandwidth_limit_expires_by_removing_its_own_qdisc() -> None:
    layer = Recording()
    net = driver(layer)
    step = Step("slow", NetworkFault("bandwidth", target="catalog", rate_kbit=256), 0, 10)
    injection = Injection(step.name, "network", "under test")
    await net.inject(step, injection, ttl=15.0)
    [(container, script, after)] = layer.expiries.values()
    assert container == "cb-catalog-1" and after == 15.0 + TTL_SLACK_S
    assert f"tc qdisc del dev eth0 root handle {injection.handle['qdisc']}" in script


async def test_a_failed_inject_still_leaves_its_helpers_for_the_rollback_to_remove() -> None:
    layer = Recording(failing="cb-recommendations-1")
    net = driver(layer)
    cut = NetworkFault("partition", between=(("catalog", "recommendations"), ("playback",)))
    step = Step("cut", cut, 0, 20)
    injection = Injection(step.name, "network", "under test")
    with pytest.raises(InjectionFailed, match="cb-recommendations-1"):
        await net.inject(step, injection, ttl=25.0)
    assert len(injection.handle["expiry"]) == 2  # both armed: the other half is in
    await net.rollback(step, injection)
    assert layer.expiries == {}


async def test_an_inject_cut_short_lands_before_its_rollback_so_no_helper_outlives_it() -> None:
    layer = Recording()
    net = driver(layer)
    step = Step("cut", NetworkFault("isolate", target="catalog"), 0, 20)
    injection = Injection(step.name, "network", "under test")
    inject = asyncio.ensure_future(net.inject(step, injection, ttl=25.0))
    await asyncio.sleep(0.001)  # the helpers are being started
    inject.cancel()
    with pytest.raises(asyncio.CancelledError):
        await inject
    await net.rollback(step, injection)
    assert layer.expiries == {}, layer.calls  # started after the cancel, removed all the same
    assert injection.handle["expiry"] and all(
        ("remove", name, "") in layer.calls for name in injection.handle["expiry"]
    )


async def test_a_helper_that_cannot_be_removed_does_not_keep_the_rules() -> None:
    layer = Recording(stuck=True)
    net = driver(layer)
    step = Step("cut", NetworkFault("isolate", target="catalog"), 0, 20)
    injection = Injection(step.name, "network", "under test")
    await net.inject(step, injection, ttl=25.0)
    with pytest.raises(RollbackFailed, match="TTL helper"):
        await net.rollback(step, injection)
    assert any(what == "run" and "-X" in script for what, _, script in layer.calls)
