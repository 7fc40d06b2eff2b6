"""Recommendations against the real catalog and profiles apps on loopback."""

from __future__ import annotations

from typing import Any

import pytest

from services.catalog.app import create_app as create_catalog
from services.catalog.settings import CatalogSettings
from services.common import ServiceSettings
from services.profiles.app import create_app as create_profiles
from services.profiles.settings import ProfilesSettings


@pytest.fixture
async def upstreams(aiohttp_server: Any, tmp_path: Any) -> tuple[Any, Any]:
    catalog = await aiohttp_server(
        create_catalog(CatalogSettings(ServiceSettings("catalog", 0), size=500))
    )
    profiles = await aiohttp_server(
        create_profiles(ProfilesSettings(ServiceSettings("profiles", 0), tmp_path / "p.db"))
    )
    return profiles, catalog


def url(server: Any) -> str:
    return str(server.make_url("")).rstrip("/")


async def test_homepage_follows_preferences_written_to_profiles(
    upstreams, aiohttp_client, start_recommendations
):
    profiles, catalog = upstreams
    writer = await aiohttp_client(profiles)
    response = await writer.patch(
        "/profiles/m-42",
        json={"favourite_genres": ["documentary"], "maturity_level": "7+"},
        headers={"Idempotency-Key": "k-1"},
    )
    assert response.status == 200
    client = await start_recommendations(url(profiles), url(catalog))
    body = await (await client.get("/recommendations/m-42?region=GB")).json()
    assert body["degraded"] is False
    assert body["rows"][0]["name"] == "Top picks in documentary"
    for row in body["rows"]:
        for title in row["titles"]:
            assert title["maturity_rating"] in ("all", "7+")


async def test_profiles_going_away_degrades_to_default_preferences(
    upstreams, start_recommendations
):
    profiles, catalog = upstreams
    client = await start_recommendations(url(profiles), url(catalog))
    await profiles.close()
    body = await (await client.get("/recommendations/m-42")).json()
    assert (body["degraded"], body["fallback"]) == (True, "default_preferences")
    assert body["rows"][0]["name"] == "Popular in US"
