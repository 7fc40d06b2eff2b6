"""The graph experiments may name is the graph the services build."""

from __future__ import annotations

import importlib

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from chaos.experiment.model import Edge
from chaos.experiment.topology import (
    EDGES,
    FALLBACKS,
    ROUTES,
    SERVICES,
    edges_between,
    edges_touching,
    parse_edge,
)
from services.common.server import DEPENDENCY_SETTINGS
from services.ports import PROFILES_REPLICAS

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
