"""`chaosbed cleanup` removes what runs left in the network namespaces wherever the
runtime has them: it asks the runtime (`network`), not which class it is."""

from __future__ import annotations

from chaos.cli.cleanup import clean

from ..runtime.standin_runtime import CLEAN, LEFT_CHAIN, StandinNetwork, StandinRuntime


async def test_cleanup_removes_the_helpers_rules_and_qdisc_a_killed_run_left() -> None:
    network = StandinNetwork()
    removed, failed = await clean(StandinRuntime(network))
    assert failed == []
    assert removed[0] == "network helper chaosbed-net-helper-1"
    assert f"catalog (chaosbed-catalog-1): iptables chain {LEFT_CHAIN}" in removed
    assert "catalog (chaosbed-catalog-1): tc qdisc cb3f: on eth0" in removed
    assert network.left_helpers == []
    assert network.saved == {"chaosbed-catalog-1": CLEAN}


async def test_cleanup_of_a_runtime_without_network_namespaces_removes_nothing() -> None:
    assert await clean(StandinRuntime(None)) == ([], [])
