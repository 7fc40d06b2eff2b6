"""What an experiment may name: the services, the edges between them, their
route templates and the fallbacks each one serves.

This is the graph the services build (tests check it against their apps):

    member traffic ──► recommendations ──► profiles
                   │                  └──► catalog
                   ├─► playback ────────► profiles, catalog
                   ├─► catalog
                   └─► profiles

    profiles (us) ◄──► profiles-eu ◄──► profiles-apac ◄──► profiles (us)

The three profiles replicas call each other (replication pushes, anti-entropy
pulls, writes forwarded to a member's home), so each replica is a caller of
the two others, with the kit's retries and breakers but no fallbacks.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.ports import PROFILES_REPLICAS

from .model import SERVICES, Edge

__all__ = [
    "CALLED_ROUTES",
    "CALLERS",
    "EDGES",
    "FALLBACKS",
    "REPLICATION_ROUTES",
    "ROUTES",
    "SERVICES",
    "edges_between",
    "edges_touching",
    "parse_edge",
]

EDGES: tuple[Edge, ...] = (
    Edge("recommendations", "profiles"),
    Edge("recommendations", "catalog"),
    Edge("playback", "profiles"),
    Edge("playback", "catalog"),
    *(
        Edge(caller, dependency)
        for caller in PROFILES_REPLICAS.values()
        for dependency in PROFILES_REPLICAS.values()
        if caller != dependency
    ),
)

# the services that call others (and so have retries and breakers)
CALLERS: tuple[str, ...] = tuple(dict.fromkeys(edge.caller for edge in EDGES))

# route templates, as the services label their metrics and match fault rules
ROUTES: Mapping[str, tuple[str, ...]] = {
    "catalog": ("/titles/{id}", "/titles", "/popular"),
    **{
        replica: (
            "/profiles/{member}",
            "/profiles/{member}/sync",
            "/profiles/{member}/plays",
            "/replication/apply",
            "/replication/entries",
            "/replication/state",
            "/replication/versions",
        )
        for replica in PROFILES_REPLICAS.values()
    },
    "recommendations": ("/recommendations/{member}",),
    "playback": ("/playback/start",),
}

# the routes a replica calls on another to replicate (pushes, anti-entropy pulls),
# whatever the member traffic
REPLICATION_ROUTES: tuple[str, ...] = (
    "/replication/apply",
    "/replication/entries",
    "/replication/versions",
)

# the route templates a caller's calls on each edge reach for member traffic;
# between replicas also the writes a replica forwards to a member's home replica
# (the history workload's syncs are forwarded too, but no member journey syncs;
# playback's play records are forwarded, see FORWARDED_ROUTES)
CALLED_ROUTES: Mapping[Edge, tuple[str, ...]] = {
    Edge("recommendations", "profiles"): ("/profiles/{member}",),
    Edge("recommendations", "catalog"): ("/popular", "/titles"),
    Edge("playback", "profiles"): ("/profiles/{member}", "/profiles/{member}/plays"),
    Edge("playback", "catalog"): ("/titles/{id}",),
    **{
        edge: ("/profiles/{member}", "/profiles/{member}/plays", *REPLICATION_ROUTES)
        for edge in EDGES
        if edge.caller in PROFILES_REPLICAS.values()
    },
}

# the writes a caller of a profiles replica makes, which that replica forwards to
# the member's home replica: a call to one of these routes reaches every replica
# (the preferences journey enters profiles itself, so its PATCH is in CALLED_ROUTES)
FORWARDED_ROUTES: tuple[str, ...] = ("/profiles/{member}/plays",)

# the fallbacks of the callers that serve any
# (the `fallback` label of chaosbed_fallbacks_total)
FALLBACKS: Mapping[str, tuple[str, ...]] = {
    "recommendations": ("default_preferences", "cached_popular"),
    "playback": ("cached_profile", "all_ages_only", "cached_title"),
}


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
