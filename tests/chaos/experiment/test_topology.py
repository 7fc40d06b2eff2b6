"""The graph experiments may name is the graph the services build."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from chaos.experiment.model import Edge
from chaos.experiment.topology import (
    CALLED_ROUTES,
    EDGES,
    FALLBACKS,
    ROUTES,
    SERVICES,
    edges_between,
    edges_touching,
    parse_edge,
)
from services.common.server import DEPENDENCY_SETTINGS
from services.topology import PROFILES_REPLICAS

SETTINGS = {
    "catalog": "CatalogSettings",
    "profiles": "ProfilesSettings",
    "recommendations": "RecommendationsSettings",
    "playback": "PlaybackSettings",
}
NEVER_FAULTED = {"/healthz", "/readyz", "/metrics", "/_chaos/faults", "/_chaos/faults/{rule_id}"}


REGION_OF = {replica: region for region, replica in PROFILES_REPLICAS.items()}


def build_app(service: str) -> web.Application:
    """The app of `service`; a profiles replica is the profiles package in its region."""
    package, env = service, {}
    if service in REGION_OF:
        package, env = "profiles", {"CHAOSBED_PROFILES_REGION": REGION_OF[service]}
    settings_module = importlib.import_module(f"services.{package}.settings")
    app_module = importlib.import_module(f"services.{package}.app")
    settings = getattr(settings_module, SETTINGS[package]).from_env(env)
    app: web.Application = app_module.create_app(settings, registry=CollectorRegistry())
    return app


@pytest.mark.parametrize("service", SERVICES)
def test_routes_are_the_route_templates_each_service_serves(service: str) -> None:
    app = build_app(service)
    served = {resource.canonical for resource in app.router.resources()} - NEVER_FAULTED
    assert served == set(ROUTES[service])


@pytest.mark.parametrize("service", SERVICES)
def test_edges_are_the_dependencies_each_service_calls(service: str) -> None:
    app = build_app(service)
    called = {Edge(service, dependency.name) for dependency in app[DEPENDENCY_SETTINGS]}
    assert called == {edge for edge in EDGES if edge.caller == service}


def test_fallbacks_are_the_ones_the_services_register() -> None:
    recommendations = importlib.import_module("services.recommendations.handlers")
    playback = importlib.import_module("services.playback.lookups")
    assert set(FALLBACKS["recommendations"]) == set(recommendations.FALLBACKS)
    assert set(FALLBACKS["playback"]) == set(playback.FALLBACKS)


def test_parse_edge_accepts_any_spacing_around_the_arrow() -> None:
    assert parse_edge("playback->catalog") == Edge("playback", "catalog")
    assert parse_edge("  playback   ->  catalog ") == Edge("playback", "catalog")


def test_parse_edge_refuses_edges_the_graph_does_not_have() -> None:
    assert parse_edge("catalog -> profiles") is None
    assert parse_edge("recommendations") is None
    assert parse_edge("recommendations -> profiles -> catalog") is None


def test_edges_between_groups_go_both_ways() -> None:
    assert set(edges_between(("profiles",), ("playback", "recommendations"))) == {
        Edge("playback", "profiles"),
        Edge("recommendations", "profiles"),
    }
    assert edges_between(("catalog",), ("profiles",)) == ()


def test_each_profiles_replica_calls_the_two_others() -> None:
    assert set(edges_touching("profiles-eu")) == {
        Edge("profiles-eu", "profiles"),
        Edge("profiles-eu", "profiles-apac"),
        Edge("profiles", "profiles-eu"),
        Edge("profiles-apac", "profiles-eu"),
    }
    assert set(edges_between(("profiles-eu",), ("profiles",))) == {
        Edge("profiles-eu", "profiles"),
        Edge("profiles", "profiles-eu"),
    }


def test_edges_touching_a_service_are_into_and_out_of_it() -> None:
    assert set(edges_touching("playback")) == {
        Edge("playback", "profiles"),
        Edge("playback", "catalog"),
    }
    assert len(edges_touching("catalog")) == 2


# ---------------------------------------------------------------- what each edge calls


async def _routes_called(
    caller: str, aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path
) -> dict[str, set[str]]:
    """The routes the real catalog and profiles apps served while the real `caller` app
    answered one member request (with favourite genres, so every row is asked for)."""
    from services.catalog.app import create_app as create_catalog
    from services.catalog.settings import CatalogSettings
    from services.common import METRICS, DependencySettings, ServiceSettings
    from services.playback import PlaybackSettings
    from services.playback import create_app as create_playback
    from services.profiles.app import create_app as create_profiles
    from services.profiles.settings import ProfilesSettings
    from services.recommendations import RecommendationsSettings
    from services.recommendations import create_app as create_recommendations

    servers = {
        "catalog": await aiohttp_server(
            create_catalog(CatalogSettings(ServiceSettings("catalog", 0), size=100))
        ),
        "profiles": await aiohttp_server(
            create_profiles(ProfilesSettings(ServiceSettings("profiles", 0), tmp_path / "p.db"))
        ),
    }
    writer = await aiohttp_client(servers["profiles"])
    written = await writer.patch(
        "/profiles/m-1",
        json={"favourite_genres": ["documentary", "comedy"], "maturity_level": "18+"},
        headers={"Idempotency-Key": "k-1"},
    )
    assert written.status == 200
    before = {name: _served(server.app[METRICS].registry) for name, server in servers.items()}
    deps: dict[str, Any] = {
        name: DependencySettings(name, str(server.make_url("")).rstrip("/"))
        for name, server in servers.items()
    }
    if caller == "recommendations":
        settings = RecommendationsSettings(ServiceSettings(caller, 0), **deps)
        client = await aiohttp_client(create_recommendations(settings))
        answer = await client.get("/recommendations/m-1")
    else:
        client = await aiohttp_client(
            create_playback(PlaybackSettings(ServiceSettings(caller, 0), **deps))
        )
        answer = await client.post("/playback/start", json={"member": "m-1", "title": 1})
    assert answer.status < 500, await answer.text()
    after = {name: _served(server.app[METRICS].registry) for name, server in servers.items()}
    return {
        name: {route for route, count in after[name].items() if count > before[name].get(route, 0)}
        for name in servers
    }


def _served(registry: CollectorRegistry) -> dict[str, float]:
    """Requests served, by route template (member traffic only)."""
    served: dict[str, float] = {}
    for family in registry.collect():
        for sample in family.samples:
            route = sample.labels.get("route")
            if sample.name == "chaosbed_http_requests_total" and route not in NEVER_FAULTED:
                assert route is not None  # every request sample carries its route
                served[route] = served.get(route, 0.0) + sample.value
    return served


@pytest.mark.parametrize("caller", ["recommendations", "playback"])
async def test_called_routes_are_the_routes_a_member_request_reaches_on_each_edge(
    caller: str, aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path
) -> None:
    called = await _routes_called(caller, aiohttp_server, aiohttp_client, tmp_path)
    for dependency, routes in called.items():
        assert routes == set(CALLED_ROUTES[Edge(caller, dependency)]), dependency


def test_called_routes_are_routes_of_the_dependency_for_every_edge() -> None:
    assert set(CALLED_ROUTES) == set(EDGES)
    for edge, routes in CALLED_ROUTES.items():
        assert set(routes) <= set(ROUTES[edge.dependency]), edge
