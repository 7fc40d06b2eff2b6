"""What an experiment's load reaches: the routes, edges and cohorts its traffic calls.

A fault on something the load does not reach matches nothing, and an SLI of
something it does not reach has no data; `judgeable` refuses both.

- A journey with weight 0 calls nothing. A journey calls the route it enters
  its service at (`JOURNEY_ROUTES`), every edge out of that service, and the
  routes those edges call (`CALLED_ROUTES`); a play it records on a profiles
  replica reaches every replica (`FORWARDED_ROUTES`: forwarded to the member's home).
- Replication between the profiles replicas runs whatever the load: the edges
  between replicas and their replication routes are always reached.
- An experiment that expects `history` also runs the history workload, which
  calls every replica's profile, sync and state routes itself.
- A cohort is reached when at least one of the load's members is in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from chaos.load.cohort import cohort_of
from chaos.slo.outcomes import JOURNEY_ROUTES
from services.topology import PROFILES_REPLICAS

from .model import JOURNEY_SERVICE, JOURNEYS, Edge, LoadSpec
from .topology import CALLED_ROUTES, EDGES, FORWARDED_ROUTES, REPLICATION_ROUTES

__all__ = ["Reach", "Route", "journeys_calling", "reach_of"]

Route = tuple[str, str]  # (service, route template)

REPLICAS = tuple(PROFILES_REPLICAS.values())
BACKGROUND_EDGES = frozenset(e for e in EDGES if e.caller in REPLICAS and e.dependency in REPLICAS)
BACKGROUND_ROUTES = frozenset(
    (replica, route) for replica in REPLICAS for route in REPLICATION_ROUTES
)
HISTORY_ROUTES = frozenset(
    (replica, route)
    for replica in REPLICAS
    for route in ("/profiles/{member}", "/profiles/{member}/sync", "/replication/state")
)


def _journey_edges(journey: str) -> frozenset[Edge]:
    return frozenset(e for e in EDGES if e.caller == JOURNEY_SERVICE[journey])


def _journey_routes(journey: str) -> frozenset[Route]:
    entry = (JOURNEY_SERVICE[journey], JOURNEY_ROUTES[journey])
    called = {(e.dependency, route) for e in _journey_edges(journey) for route in CALLED_ROUTES[e]}
    forwarded = {
        (replica, route)
        for service, route in called
        if service in REPLICAS and route in FORWARDED_ROUTES
        for replica in REPLICAS
    }
    return frozenset({entry, *called, *forwarded})


def journeys_calling(service: str, route: str | None = None, edge: Edge | None = None) -> list[str]:
    """The journeys (whatever their weight) whose requests reach the route (any route of
    `service` when None) or, when `edge` is given, travel on that edge."""
    if edge is not None:
        return [j for j in JOURNEYS if edge in _journey_edges(j)]
    return [
        j
        for j in JOURNEYS
        if any(s == service and route in (None, r) for s, r in _journey_routes(j))
    ]


def _has_member_in(load: LoadSpec, cohort: str) -> bool:
    """Whether any member m-0 .. m-{members-1} is in `cohort` (stops at the first found)."""
    shares = (load.experiment_percent, load.control_percent)
    if load.control_percent is None and load.experiment_percent in (0.0, 100.0):
        everyone = "experiment" if load.experiment_percent else "control"  # all in one cohort
        return cohort == everyone
    return any(cohort_of(f"m-{index}", *shares) == cohort for index in range(load.members))


@dataclass(frozen=True)
class Reach:
    """What a load (and the history workload, when run) sends requests to."""

    journeys: tuple[str, ...]  # the journeys with a weight above 0
    entries: frozenset[Route]  # the routes the load generator itself calls
    routes: frozenset[Route]  # every route that receives requests
    edges: frozenset[Edge]  # every edge calls travel on
    cohorts: tuple[str, ...]  # the cohorts at least one member is in

    def route(self, service: str, route: str | None) -> bool:
        """Whether `route` of `service` (any route of it when None) receives requests."""
        return any(s == service and route in (None, r) for s, r in self.routes)

    def entry(self, service: str, route: str | None) -> bool:
        """Whether the load generator itself calls `route` of `service` (any when None)."""
        return any(s == service and route in (None, r) for s, r in self.entries)


def reach_of(load: LoadSpec, *, history: bool) -> Reach:
    journeys = tuple(j for j in JOURNEYS if load.mix.get(j, 0) > 0)
    routes = set(BACKGROUND_ROUTES | (HISTORY_ROUTES if history else frozenset()))
    edges = set(BACKGROUND_EDGES)
    for journey in journeys:
        routes |= _journey_routes(journey)
        edges |= _journey_edges(journey)
    return Reach(
        journeys=journeys,
        entries=frozenset((JOURNEY_SERVICE[j], JOURNEY_ROUTES[j]) for j in journeys),
        routes=frozenset(routes),
        edges=frozenset(edges),
        cohorts=tuple(c for c in ("experiment", "control") if _has_member_in(load, c)),
    )
