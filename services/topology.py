"""The stack's topology, declared once: services, ports, replicas, edges, routes, fallbacks.

A leaf module (standard library only): the services take their default
port and their dependencies' URLs from here; the chaos runner its stack,
the graph an experiment may name and the routes a fault may match; the
generated files (compose/docker-compose.yml, compose/prometheus/
prometheus.yml, dashboards/json) are written from it by `make generate`
(compose/generate.py, dashboards/generate.py), and a test regenerates and
compares them. A change of port, service, edge or route is a change here,
then `make generate`.

    member traffic ──► recommendations ──► profiles
                   │                  └──► catalog
                   ├─► playback ────────► profiles, catalog
                   ├─► catalog
                   └─► profiles

    profiles (us) ◄──► profiles-eu ◄──► profiles-apac ◄──► profiles (us)

The three profiles replicas call each other (replication pushes,
anti-entropy pulls, writes forwarded to a member's home), so each replica is
a caller of the two others, with the kit's retries and breakers but no
fallbacks. Every port is bound on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "APP_FAULT_KINDS",
    "CALLED_ROUTES",
    "EDGES",
    "FALLBACKS",
    "FORWARDED_ROUTES",
    "GRAFANA_PORT",
    "HOST",
    "HTTP_METHODS",
    "LOAD_GENERATOR_PORT",
    "MONKEY_PORT",
    "Metric",
    "PORTS",
    "PROFILES_REPLICAS",
    "PROMETHEUS_PORT",
    "REGION_VARIABLE",
    "REPLICATION_ROUTES",
    "ROUTES",
    "SERVICES",
    "Service",
    "default_url",
    "host_port_variable",
    "regional_profiles_url",
    "url_variable",
]

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Service:
    """One service of the stack, as every runtime starts it."""

    name: str
    port: int
    module: str
    """Run as `python -m <module>` (the three profiles replicas share one)."""
    starts_after: tuple[str, ...] = ()
    """Started once these are ready (the compose file's `depends_on`)."""
    region: str | None = None
    """A profiles replica's region (CHAOSBED_PROFILES_REGION)."""
    monkey: bool = True
    """Whether `chaosbed monkey` may choose it (the compose label `chaosbed.monkey`).
    The services members enter by run one instance each, with nothing in front of
    them to fall back on: a monkey's kill there is an outage by design, not a
    question about resilience, so they opt out (`--opt-in` brings them back)."""


_LEAVES = ("catalog", "profiles")

#: Every service, in start order (each after the services it starts after).
SERVICES: Mapping[str, Service] = MappingProxyType(
    {
        service.name: service
        for service in (
            Service("catalog", 8081, "services.catalog"),
            Service("profiles", 8084, "services.profiles", region="us"),
            Service("profiles-eu", 8085, "services.profiles", region="eu"),
            Service("profiles-apac", 8086, "services.profiles", region="apac"),
            Service("recommendations", 8082, "services.recommendations", _LEAVES, monkey=False),
            Service("playback", 8083, "services.playback", _LEAVES, monkey=False),
        )
    }
)

#: service name -> the port it listens on, in port order.
PORTS: Mapping[str, int] = MappingProxyType(
    {service.name: service.port for service in sorted(SERVICES.values(), key=lambda s: s.port)}
)
#: profiles region -> the replica (service name) that serves it; "us" is the
#: original profiles service.
PROFILES_REPLICAS: Mapping[str, str] = MappingProxyType(
    {s.region: s.name for s in SERVICES.values() if s.region is not None}
)
PROMETHEUS_PORT = 9090
GRAFANA_PORT = 3000
#: The chaos runner's load generator serves its member-side /metrics here.
LOAD_GENERATOR_PORT = 9095
#: `chaosbed monkey` serves its /metrics and its control endpoint here.
MONKEY_PORT = 9096

#: (caller, dependency): every call the services make to each other.
EDGES: tuple[tuple[str, str], ...] = (
    ("recommendations", "profiles"),
    ("recommendations", "catalog"),
    ("playback", "profiles"),
    ("playback", "catalog"),
    *(
        (caller, dependency)
        for caller in PROFILES_REPLICAS.values()
        for dependency in PROFILES_REPLICAS.values()
        if caller != dependency
    ),
)

#: The routes a replica calls on another to replicate (pushes, anti-entropy
#: pulls), whatever the member traffic.
REPLICATION_ROUTES: tuple[str, ...] = (
    "/replication/apply",
    "/replication/entries",
    "/replication/versions",
)

#: Route templates, as the services label their metrics and match fault rules.
ROUTES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
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
)

#: The route templates a caller's calls on each edge reach for member
#: traffic; between replicas also the writes a replica forwards to a member's
#: home replica (the history workload's syncs are forwarded too, but no
#: member journey syncs; playback's play records are forwarded, see
#: FORWARDED_ROUTES).
CALLED_ROUTES: Mapping[tuple[str, str], tuple[str, ...]] = MappingProxyType(
    {
        ("recommendations", "profiles"): ("/profiles/{member}",),
        ("recommendations", "catalog"): ("/popular", "/titles"),
        ("playback", "profiles"): ("/profiles/{member}", "/profiles/{member}/plays"),
        ("playback", "catalog"): ("/titles/{id}",),
        **{
            edge: ("/profiles/{member}", "/profiles/{member}/plays", *REPLICATION_ROUTES)
            for edge in EDGES
            if edge[0] in PROFILES_REPLICAS.values()
        },
    }
)

#: The writes a caller of a profiles replica makes, which that replica
#: forwards to the member's home replica: a call to one of these routes
#: reaches every replica (the preferences journey enters profiles itself, so
#: its PATCH is in CALLED_ROUTES).
FORWARDED_ROUTES: tuple[str, ...] = ("/profiles/{member}/plays",)

#: The application faults a service applies to its own requests or its calls
#: (the control API's rule kinds; docs/control-api.md).
APP_FAULT_KINDS: tuple[str, ...] = ("latency", "error", "drop", "hang", "corrupt")
#: The HTTP methods a fault rule may be limited to.
HTTP_METHODS: tuple[str, ...] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

#: The fallbacks of the callers that serve any (the `fallback` label of
#: chaosbed_fallbacks_total).
FALLBACKS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "recommendations": ("default_preferences", "cached_popular"),
        "playback": ("cached_profile", "all_ages_only", "cached_title"),
    }
)


class Metric(StrEnum):
    """Every metric the services and the load generator export, by its exposed name.

    A histogram's name is its family's: add `_bucket`, `_sum` or `_count`.
    The recording rules (compose/prometheus/rules) and docs/metrics.md spell
    these too; tests check both against this list.
    """

    # every service (services/common/metrics.py)
    HTTP_REQUESTS = "chaosbed_http_requests_total"
    HTTP_DURATION = "chaosbed_http_request_duration_seconds"
    DEPENDENCY_CALLS = "chaosbed_dependency_calls_total"
    DEPENDENCY_DURATION = "chaosbed_dependency_call_duration_seconds"
    FIRST_TRIES = "chaosbed_dependency_first_tries_total"
    RETRIES = "chaosbed_retries_total"
    FALLBACKS = "chaosbed_fallbacks_total"
    BREAKER_STATE = "chaosbed_circuit_breaker_state"
    FAULTS_ACTIVE = "chaosbed_faults_active"
    FAULT_MATCHES = "chaosbed_fault_rule_matches_total"
    FAULT_PLANS = "chaosbed_fault_plans_total"
    FAULT_PLAN_ACTIONS = "chaosbed_fault_plan_actions_total"
    # playback
    PLAYBACK_STARTS = "chaosbed_playback_starts_total"
    # profiles
    PROFILE_WRITES = "chaosbed_profile_writes_total"
    PROFILE_PLAYS = "chaosbed_profile_plays_total"
    REPLICATION_LAG = "chaosbed_profiles_replication_lag_seconds"
    REPLICATION_PENDING = "chaosbed_profiles_replication_pending"
    REPLICATION_DELAY = "chaosbed_profiles_replication_delay_seconds"
    REPLICATION_APPLIED = "chaosbed_profiles_replication_applied_total"
    PROFILE_CONFLICTS = "chaosbed_profiles_conflicts_total"
    PROFILE_SYNCS = "chaosbed_profiles_sync_total"
    # the chaos runner's load generator (what members see)
    MEMBER_REQUESTS = "chaosbed_member_requests_total"
    MEMBER_DURATION = "chaosbed_member_request_duration_seconds"


#: the region a caller of profiles runs in (recommendations, playback): it
#: reads from that region's replica.
REGION_VARIABLE = "CHAOSBED_REGION"


def default_url(service: str) -> str:
    """The base URL of `service` on this machine: ``http://127.0.0.1:<its port>``."""
    return f"http://{HOST}:{PORTS[service]}"


def url_variable(service: str) -> str:
    """The variable that says where `service` answers: CHAOSBED_<NAME>_URL, `-` as `_`."""
    return f"CHAOSBED_{service.upper().replace('-', '_')}_URL"


def host_port_variable(name: str) -> str:
    """Where compose publishes `name` on the host: CHAOSBED_<NAME>_HOST_PORT, `-` as `_`
    (compose variables cannot hold a `-`): CHAOSBED_PROFILES_EU_HOST_PORT."""
    return f"CHAOSBED_{name.upper().replace('-', '_')}_HOST_PORT"


def regional_profiles_url(env: Mapping[str, str]) -> tuple[str, str]:
    """(region, URL) of the profiles replica a caller reads from.

    The region is `CHAOSBED_REGION` (us, eu or apac; default us); the URL is
    that replica's variable (CHAOSBED_PROFILES_URL for us,
    CHAOSBED_PROFILES_EU_URL, CHAOSBED_PROFILES_APAC_URL) or its default URL.
    ValueError, naming CHAOSBED_REGION, for any other region.
    """
    region = env.get(REGION_VARIABLE, "").strip() or "us"
    if region not in PROFILES_REPLICAS:
        raise ValueError(
            f"{REGION_VARIABLE}={region!r} must be one of {', '.join(PROFILES_REPLICAS)}"
        )
    replica = PROFILES_REPLICAS[region]
    url = env.get(url_variable(replica), "").strip() or default_url(replica)
    return region, url.rstrip("/")
