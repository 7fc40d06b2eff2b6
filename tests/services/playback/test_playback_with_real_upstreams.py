"""Playback against the real catalog and profiles apps on loopback."""

from __future__ import annotations

from typing import Any

import pytest

from services.catalog.app import create_app as create_catalog
from services.catalog.data import generate_catalog
from services.catalog.settings import CatalogSettings
from services.common import ServiceSettings
from services.profiles.app import create_app as create_profiles
from services.profiles.settings import ProfilesSettings

SIZE = 500
TITLES = generate_catalog(SIZE)


def first(rating: str) -> int:
    return next(t.id for t in TITLES if t.maturity_rating == rating and "US" in t.regions)


@pytest.fixture
async def upstreams(aiohttp_server: Any, tmp_path: Any) -> tuple[Any, Any]:
    catalog = await aiohttp_server(
        create_catalog(CatalogSettings(ServiceSettings("catalog", 0), size=SIZE))
    )
    profiles = await aiohttp_server(
        create_profiles(ProfilesSettings(ServiceSettings("profiles", 0), tmp_path / "p.db"))
    )
    return profiles, catalog


def url(server: Any) -> str:
    return str(server.make_url("")).rstrip("/")


async def test_a_kids_profile_is_refused_an_adult_title(upstreams, aiohttp_client, start_playback):
    profiles, catalog = upstreams
    writer = await aiohttp_client(profiles)
    await writer.patch(
        "/profiles/m-kid", json={"maturity_level": "7+"}, headers={"Idempotency-Key": "k"}
    )
    client = await start_playback(url(profiles), url(catalog))
    allowed = await client.post("/playback/start", json={"member": "m-kid", "title": first("7+")})
    assert allowed.status == 200
    denied = await client.post("/playback/start", json={"member": "m-kid", "title": first("18+")})
    assert denied.status == 403
    assert (await denied.json())["reason"] == "maturity"


async def test_an_id_beyond_the_catalog_is_a_404(upstreams, start_playback):
    profiles, catalog = upstreams
    client = await start_playback(url(profiles), url(catalog))
    response = await client.post("/playback/start", json={"member": "m-1", "title": SIZE + 1})
    assert response.status == 404


async def test_profiles_going_away_falls_back_to_the_cached_profile(upstreams, start_playback):
    profiles, catalog = upstreams
    client = await start_playback(url(profiles), url(catalog))
    body = {"member": "m-1", "title": first("18+")}
    assert (await client.post("/playback/start", json=body)).status == 200
    await profiles.close()
    response = await client.post("/playback/start", json=body)
    assert response.status == 200
    assert (await response.json())["fallback"] == "cached_profile"
