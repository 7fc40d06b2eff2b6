"""What a network fault becomes: chain names, iptables rules, tc commands, where
they go and what is checked (pure: no Docker)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chaos.experiment.model import Edge, NetworkFault
from chaos.faults.network.driver import loss_tolerance
from chaos.faults.network.leftovers import parse, removal_script
from chaos.faults.network.plan import place, reach_checks
from chaos.faults.network.probes import parse_bandwidth, parse_loss, parse_reach
from chaos.faults.network.rules import (
    CHAIN_MAX,
    CHAIN_PREFIX,
    NetRules,
    chain_name,
    qdisc_handle,
    tbf_rollback_script,
    tbf_script,
)
from chaos.runtime.network import Namespace

SERVICES = ("catalog", "recommendations", "playback", "profiles")
PORTS = {"catalog": 8081, "recommendations": 8082, "playback": 8083, "profiles": 8084}
NAMESPACES = [
    Namespace(name, f"chaosbed-{name}-1", f"id-{name}", (f"172.18.0.{i + 2}",), PORTS.get(name))
    for i, name in enumerate((*SERVICES, "prometheus"))
]
ADDRESS = {ns.service: ns.addresses[0] for ns in NAMESPACES}
TAG = "chaosbed-run-20261122T040205-361e71"


@given(st.text(min_size=1, max_size=80), st.integers(min_value=0, max_value=999))
def test_a_chain_name_fits_iptables_and_starts_with_the_prefix(run_id: str, index: int) -> None:
    name = chain_name(run_id, index)
    assert len(name) <= CHAIN_MAX
    assert name.startswith(CHAIN_PREFIX) and name.endswith(f"-{index}")
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in name)


def test_chain_names_differ_between_runs_and_steps() -> None:
    names = {
        chain_name(run, step)
        for run in ("20261122T040205-361e71", "20261122T040205-361e72")
        for step in (1, 2)
    }
    assert len(names) == 4


def test_a_qdisc_handle_is_ours_and_stable() -> None:
    handle = qdisc_handle("20261122T040205-361e71", 1)
    assert handle == qdisc_handle("20261122T040205-361e71", 1)
    assert handle.startswith("cb") and handle.endswith(":") and len(handle) == 5
    int(handle[:-1], 16)


def test_a_both_ways_partition_drops_everything_to_and_from_the_other_side() -> None:
    fault = NetworkFault("partition", between=(("playback",), ("profiles",)))
    [placement] = place(fault, NAMESPACES, SERVICES, run_id="r-1", step_index=1, tag=TAG)
    assert placement.namespace.service == "playback"
    specs = [" ".join(spec) for spec in placement.rules.rule_specs()]
    profiles = ADDRESS["profiles"]
    assert specs == [
        f"-A {placement.rules.chain} -d {profiles} -m comment --comment {TAG} -j DROP",
        f"-A {placement.rules.chain} -s {profiles} -m comment --comment {TAG} -j DROP",
    ]


def test_a_one_way_partition_drops_only_the_connections_its_side_opens() -> None:
    fault = NetworkFault("partition", from_=("recommendations",), to=("catalog",))
    [placement] = place(fault, NAMESPACES, SERVICES, run_id="r-1", step_index=1, tag=TAG)
    assert placement.namespace.service == "recommendations"
    specs = [" ".join(spec) for spec in placement.rules.rule_specs()]
    assert any("-d 172.18.0.2" in s and "--ctdir ORIGINAL -j DROP" in s for s in specs)
    assert any("-s 172.18.0.2" in s and "--ctdir REPLY -j DROP" in s for s in specs)
    assert len(specs) == 2


def test_isolation_names_every_other_service_but_never_prometheus() -> None:
    fault = NetworkFault("isolate", target="catalog")
    [placement] = place(fault, NAMESPACES, SERVICES, run_id="r-1", step_index=1, tag=TAG)
    assert set(placement.rules.peers) == {ADDRESS[s] for s in SERVICES if s != "catalog"}
    assert ADDRESS["prometheus"] not in placement.rules.peers


def test_loss_counts_then_drops_at_random_with_the_asked_probability() -> None:
    fault = NetworkFault("loss", edge=Edge("recommendations", "catalog"), percent=30)
    [placement] = place(fault, NAMESPACES, SERVICES, run_id="r-1", step_index=2, tag=TAG)
    specs = placement.rules.rule_specs()
    assert placement.rules.peers == (ADDRESS["catalog"],)
    counting = [s for s in specs if "-j" not in s]
    dropping = [s for s in specs if "statistic" in s]
    assert len(counting) == len(dropping) == 2
    assert all(s[s.index("--probability") + 1] == "0.3000" for s in dropping)


def test_the_inject_script_makes_the_chain_before_jumping_to_it_and_rollback_undoes_it() -> None:
    rules = NetRules("cb-x-1", TAG, "cut", ("172.18.0.3",))
    lines = rules.inject_script().splitlines()
    assert lines[1] == "iptables -w -N cb-x-1"
    assert lines[-2:] == [
        f"iptables -w -I INPUT 1 -m comment --comment {TAG} -j cb-x-1",
        f"iptables -w -I OUTPUT 1 -m comment --comment {TAG} -j cb-x-1",
    ]
    undo = rules.rollback_script()
    assert f"iptables -w -D INPUT -m comment --comment {TAG} -j cb-x-1" in undo
    assert "iptables -w -F cb-x-1; iptables -w -X cb-x-1" in undo


def test_tbf_is_added_with_our_handle_and_deleted_only_while_it_is_ours() -> None:
    assert "tc qdisc add dev eth0 root handle cb12: tbf rate 256kbit burst 3000" in tbf_script(
        "cb12:", 256
    )
    undo = tbf_rollback_script("cb12:")
    assert "grep -q '^qdisc tbf cb12: root'" in undo and "del dev eth0 root handle cb12:" in undo


def test_a_one_way_cut_is_checked_in_both_directions() -> None:
    fault = NetworkFault("partition", from_=("recommendations",), to=("catalog",))
    checks = reach_checks(fault, NAMESPACES, SERVICES, "prometheus")
    assert [c.describe() for c in checks] == [
        "recommendations cannot reach catalog",
        "catalog reaches recommendations",
    ]


def test_an_isolation_is_checked_from_prometheus_too() -> None:
    fault = NetworkFault("isolate", target="profiles")
    said = [c.describe() for c in reach_checks(fault, NAMESPACES, SERVICES, "prometheus")]
    assert "profiles cannot reach catalog" in said
    assert "catalog cannot reach profiles" in said
    assert "prometheus reaches profiles" in said


IPTABLES_SAVE = f"""# Generated by iptables-save v1.8.9 (nf_tables)
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:cb-20261122T040205361e71-1 - [0:0]
-A INPUT -m comment --comment {TAG} -j cb-20261122T040205361e71-1
-A OUTPUT -m comment --comment {TAG} -j cb-20261122T040205361e71-1
-A OUTPUT -d 10.0.0.1/32 -j DROP
-A cb-20261122T040205361e71-1 -d 172.18.0.3/32 -m comment --comment {TAG} -j DROP
COMMIT
#--tc--
qdisc tbf cb3f: root refcnt 3 rate 64Kbit burst 3000b lat 200ms
"""


def test_leftovers_are_our_chains_their_jumps_and_our_qdisc_and_nothing_else() -> None:
    left = parse(NAMESPACES[0], IPTABLES_SAVE)
    assert left.chains == ["cb-20261122T040205361e71-1"]
    assert [j[1] for j in left.jumps] == ["INPUT", "OUTPUT"]
    assert left.qdisc == "cb3f:"
    script = removal_script(left).splitlines()
    assert script[1] == (
        f"iptables -w -D INPUT -m comment --comment {TAG} -j cb-20261122T040205361e71-1"
    )
    assert "iptables -w -X cb-20261122T040205361e71-1" in script
    assert script[-1] == "tc qdisc del dev eth0 root handle cb3f:"
    assert not any("10.0.0.1" in line for line in script)


def test_a_clean_namespace_has_no_leftovers() -> None:
    clean = "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n#--tc--\nqdisc noqueue 0: root refcnt 2\n"
    assert not parse(NAMESPACES[0], clean)


def test_probe_outputs_are_read_from_their_last_line() -> None:
    assert parse_reach("noise\n[true, false]\n", 2) == [True, False]
    loss = parse_loss('{"seen": 400, "dropped": 120}')
    assert loss.rate == 0.3
    bandwidth = parse_bandwidth('{"bytes": 16000, "seconds": 2.0, "offered": 48000}')
    assert bandwidth.kbit == 64.0 and bandwidth.offered_kbit == 192.0


def test_the_loss_tolerance_narrows_with_more_packets() -> None:
    assert loss_tolerance(30, 4000) < loss_tolerance(30, 400) < 0.15
