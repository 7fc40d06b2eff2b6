"""A start refused for a failed dependency says which one, so callers do not
retry it (the kit's upstream-failure contract)."""

from __future__ import annotations

from services.common import UPSTREAM_FAILURE_HEADER

from ..conftest import Fake
from .conftest import StartPlayback

ADULT_US = 2  # a title rated 18+ in the fake catalog


async def test_catalog_down_with_the_title_not_cached_names_the_catalog(
    fake_profiles: Fake, closed_url: str, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, closed_url)

    response = await client.post("/playback/start", json={"member": "m-horror", "title": ADULT_US})

    assert response.status == 503
    assert response.headers[UPSTREAM_FAILURE_HEADER] == "catalog"
    assert response.headers["Retry-After"] == "1"


async def test_profiles_down_refusing_an_older_rated_title_names_profiles(
    fake_catalog: Fake, closed_url: str, start_playback: StartPlayback
) -> None:
    client = await start_playback(closed_url, fake_catalog.url)

    response = await client.post("/playback/start", json={"member": "m-horror", "title": ADULT_US})

    assert response.status == 503
    assert response.headers[UPSTREAM_FAILURE_HEADER] == "profiles"
    assert response.headers["Retry-After"] == "1"
