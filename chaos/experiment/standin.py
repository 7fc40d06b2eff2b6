"""Application-layer stand-ins for network faults, where the network layer is missing.

The process runtime has no network layer to cut (services share the host's
loopback), and a kernel without sch_netem cannot delay packets. An experiment
that says `standin: allowed` on a network fault accepts these stand-ins,
made of the services' own fault rules; the runner labels them as stand-ins.

- partition (both ways or one way): drop every call between the two sides,
  in both directions (a one-way partition loses the replies of calls made the
  other way, so those fail too);
- isolate: drop every request the service receives and every call it makes;
- loss: drop that percentage of the service's requests and calls (or of
  the edge's calls): requests lost, not packets, so retries see whole failures;
- netem_latency: application latency on the same requests and calls;
- bandwidth: none; it is refused.
"""

from __future__ import annotations

from .model import AppFault, Edge, NetworkFault
from .topology import EDGES, edges_between

__all__ = ["standin_faults"]


def standin_faults(fault: NetworkFault) -> tuple[AppFault, ...] | None:
    """The application-layer rules that stand in for `fault`, or None when none can."""
    if fault.kind == "bandwidth":
        return None
    if fault.kind == "partition":
        if fault.between is not None:  # both ways: every edge across the cut
            first, second = fault.between
            return tuple(AppFault("drop", edge=edge) for edge in edges_between(first, second))
        sources, targets = fault.from_ or (), fault.to or ()  # one way: from -> to only
        return tuple(
            AppFault("drop", edge=edge)
            for edge in EDGES
            if edge.caller in sources and edge.dependency in targets
        )

    def make(target: str | None = None, edge: Edge | None = None) -> AppFault:
        if fault.kind == "netem_latency":
            return AppFault(
                "latency", target, edge, delay_ms=fault.delay_ms, jitter_ms=fault.jitter_ms
            )
        percent = fault.percent if fault.kind == "loss" else 100.0
        return AppFault("drop", target, edge, percent=percent)

    if fault.edge is not None:
        return (make(edge=fault.edge),)
    assert fault.target is not None
    outgoing = [edge for edge in EDGES if edge.caller == fault.target]
    return (make(target=fault.target), *(make(edge=edge) for edge in outgoing))
