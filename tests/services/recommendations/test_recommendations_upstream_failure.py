"""A homepage that cannot be built says which dependency failed, so callers
do not retry it (the kit's upstream-failure contract)."""

from __future__ import annotations

from services.common import UPSTREAM_FAILURE_HEADER

from ..conftest import Fake
from .conftest import StartRecommendations


async def test_catalog_down_with_nothing_cached_names_the_catalog_and_when_to_retry(
    fake_profiles: Fake, closed_url: str, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, closed_url)

    response = await client.get("/recommendations/m-horror")

    assert response.status == 503
    assert response.headers[UPSTREAM_FAILURE_HEADER] == "catalog"
    assert response.headers["Retry-After"] == "1"
