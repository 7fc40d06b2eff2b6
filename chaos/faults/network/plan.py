"""Where a network fault's rules go and how it is checked (pure).

Faults act between the services: the peers a rule names are the other
services' container addresses, so Prometheus (which scrapes every service),
Docker's DNS and the host (the members' traffic on the published ports) are
never cut, and the SLIs stay honest.

| fault                 | rules in the namespace of   | peers            | mode    |
|-----------------------|-----------------------------|------------------|---------|
| partition between A,B | every service of A          | B's addresses    | cut     |
| partition from A to B | every service of A          | B's addresses    | one_way |
| isolate S             | S                           | every other svc  | cut     |
| loss on S             | S                           | every other svc  | loss    |
| loss on edge C -> D   | C                           | D's addresses    | loss    |
| bandwidth on S        | S (tbf on eth0, egress)     |                  |         |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chaos.experiment.model import NetworkFault
from chaos.runtime.network import Namespace

from .rules import NetRules, chain_name

__all__ = ["Placement", "Reach", "place", "reach_checks"]


@dataclass(frozen=True)
class Placement:
    namespace: Namespace
    rules: NetRules


@dataclass(frozen=True)
class Reach:
    """A TCP connect from `source`'s namespace to `target`, expected to succeed or not."""

    source: Namespace
    target: Namespace
    expect: bool

    def describe(self) -> str:
        verb = "reaches" if self.expect else "cannot reach"
        return f"{self.source.service} {verb} {self.target.service}"


def _of(namespaces: Sequence[Namespace], services: Sequence[str]) -> list[Namespace]:
    return [ns for ns in namespaces if ns.service in services]


def _addresses(namespaces: Sequence[Namespace]) -> tuple[str, ...]:
    return tuple(sorted({a for ns in namespaces for a in ns.addresses}))


def sides(
    fault: NetworkFault, namespaces: Sequence[Namespace], services: Sequence[str]
) -> tuple[list[Namespace], list[Namespace]]:
    """(the namespaces that hold the rules, the namespaces they name as peers)."""
    if fault.kind == "partition" and fault.between is not None:
        return _of(namespaces, fault.between[0]), _of(namespaces, fault.between[1])
    if fault.kind == "partition":
        return _of(namespaces, fault.from_ or ()), _of(namespaces, fault.to or ())
    if fault.edge is not None:
        return _of(namespaces, [fault.edge.caller]), _of(namespaces, [fault.edge.dependency])
    assert fault.target is not None
    others = [s for s in services if s != fault.target]
    return _of(namespaces, [fault.target]), _of(namespaces, others)


def place(
    fault: NetworkFault,
    namespaces: Sequence[Namespace],
    services: Sequence[str],
    *,
    run_id: str,
    step_index: int,
    tag: str,
) -> list[Placement]:
    """The iptables rules of a partition, isolate or loss fault, per namespace."""
    holders, peers = sides(fault, namespaces, services)
    mode = {"partition": "cut", "isolate": "cut", "loss": "loss"}[fault.kind]
    if fault.kind == "partition" and fault.between is None:
        mode = "one_way"
    probability = fault.percent / 100 if fault.kind == "loss" else 1.0
    chain = chain_name(run_id, step_index)
    addresses = _addresses(peers)
    return [
        Placement(ns, NetRules(chain, tag, mode, addresses, probability))  # type: ignore[arg-type]
        for ns in holders
    ]


def reach_checks(
    fault: NetworkFault,
    namespaces: Sequence[Namespace],
    services: Sequence[str],
    prometheus: str,
) -> list[Reach]:
    """What must hold once a partition or isolation is in: every cut direction is cut
    (one pair each), the open direction of a one-way cut still answers, and for an
    isolation Prometheus still reaches the service."""
    holders, peers = sides(fault, namespaces, services)
    checks: list[Reach] = []
    one_way = fault.kind == "partition" and fault.between is None
    for holder in holders:
        for peer in peers:
            if peer.port is not None:
                checks.append(Reach(holder, peer, expect=False))
    for peer in peers[:1] if fault.kind == "isolate" else peers:
        for holder in holders[:1] if fault.kind == "isolate" else holders:
            if holder.port is not None:
                checks.append(Reach(peer, holder, expect=one_way))
    if fault.kind == "isolate":
        for scraper in (ns for ns in namespaces if ns.service == prometheus):
            checks += [Reach(scraper, h, expect=True) for h in holders if h.port is not None]
    return checks
