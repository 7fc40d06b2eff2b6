"""What an experiment may name: the services, the edges between them, their
route templates and the fallbacks each one serves.

The facts are declared once, in `services.topology` (tests check them
against the services' apps); this module gives the edges as `Edge`s.
"""

from __future__ import annotations

from collections.abc import Mapping

from services import topology

from .model import SERVICES, Edge

__all__ = [
    "CALLED_ROUTES",
    "CALLERS",
    "EDGES",
    "FALLBACKS",
    "FORWARDED_ROUTES",
    "REPLICATION_ROUTES",
    "ROUTES",
    "SERVICES",
    "edges_between",
    "edges_touching",
    "parse_edge",
]

EDGES: tuple[Edge, ...] = tuple(Edge(*edge) for edge in topology.EDGES)

# the services that call others (and so have retries and breakers)
CALLERS: tuple[str, ...] = tuple(dict.fromkeys(edge.caller for edge in EDGES))

ROUTES: Mapping[str, tuple[str, ...]] = topology.ROUTES
REPLICATION_ROUTES: tuple[str, ...] = topology.REPLICATION_ROUTES
CALLED_ROUTES: Mapping[Edge, tuple[str, ...]] = {
    Edge(*edge): routes for edge, routes in topology.CALLED_ROUTES.items()
}
FORWARDED_ROUTES: tuple[str, ...] = topology.FORWARDED_ROUTES
FALLBACKS: Mapping[str, tuple[str, ...]] = topology.FALLBACKS


def parse_edge(text: str) -> Edge | None:
    """`"a -> b"` as an Edge of the graph, or None when it is not one."""
    caller, arrow, dependency = (part.strip() for part in text.partition("->"))
    edge = Edge(caller, dependency)
    return edge if arrow and edge in EDGES else None


def edges_between(sources: tuple[str, ...], targets: tuple[str, ...]) -> tuple[Edge, ...]:
    """Every edge from a service in `sources` to one in `targets`, or back."""
    return tuple(
        edge
        for edge in EDGES
        if (edge.caller in sources and edge.dependency in targets)
        or (edge.caller in targets and edge.dependency in sources)
    )


def edges_touching(service: str) -> tuple[Edge, ...]:
    """Every edge into or out of `service`."""
    return tuple(edge for edge in EDGES if service in (edge.caller, edge.dependency))
