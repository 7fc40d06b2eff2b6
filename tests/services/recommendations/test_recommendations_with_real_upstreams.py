"""Recommendations against the real catalog and profiles apps on loopback.

Each fallback is proven for every way an upstream fails (`upstream_failure`:
down, slow or erroring, made with the real app's own control API; see
../conftest.py), and the answer and `chaosbed_fallbacks_total` both say so.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from services.common import METRICS

from ..conftest import RealUpstreams
from .conftest import StartRecommendations


def fallbacks(
    client: TestClient[web.Request, web.Application], fallback: str, result: str = "served"
) -> float:
    """Counted fallbacks, matched on the labels we know (others may be added)."""
    wanted = {"service": "recommendations", "fallback": fallback, "result": result}
    return sum(
        s.value
        for family in client.app[METRICS].registry.collect()
        for s in family.samples
        if s.name == "chaosbed_fallbacks_total" and wanted.items() <= s.labels.items()
    )


async def homepage(client: Any, member: str = "m-42", region: str = "GB") -> Any:
    response = await client.get(f"/recommendations/{member}?region={region}")
    assert response.status == 200, await response.text()
    return await response.json()


async def seed(client: Any, region: str = "GB") -> Any:
    """A homepage with every upstream answering, which caches the region's popular
    list. On a loaded machine one loopback call can outlast the clients' 0.5 s
    per-try timeout (one CI run: a 503, nothing cached yet); such a try is not
    what these tests are about, so it is asked again, at most 5 times. The
    fallbacks it counted are then the baseline (see `counted`)."""
    for _ in range(5):
        response = await client.get(f"/recommendations/m-42?region={region}")
        body = await response.json()
        if response.status == 200 and body["degraded"] is False:
            return body
    raise AssertionError(f"no healthy homepage for {region} in 5 tries: {body}")


class Since(Protocol):
    def __call__(self, name: str, result: str = "served") -> float: ...


def counted(client: Any) -> Since:
    """The fallbacks counted from now on (the seeding's are left out)."""
    before: dict[tuple[str, str], float] = {}
    for name in ("cached_popular", "default_preferences"):
        for result in ("served", "failed"):
            before[name, result] = fallbacks(client, name, result)

    def since(name: str, result: str = "served") -> float:
        return fallbacks(client, name, result) - before[name, result]

    return since


async def write_favourite_genre(upstreams: Any, aiohttp_client: Any, genre: str) -> None:
    writer = await aiohttp_client(upstreams.profiles)
    response = await writer.patch(
        "/profiles/m-42",
        json={"favourite_genres": [genre], "maturity_level": "7+"},
        headers={"Idempotency-Key": "k-1"},
    )
    assert response.status == 200


async def test_homepage_follows_preferences_written_to_profiles(
    real_upstreams: RealUpstreams,
    aiohttp_client: AiohttpClient,
    start_recommendations: StartRecommendations,
) -> None:
    await write_favourite_genre(real_upstreams, aiohttp_client, "documentary")
    client = await start_recommendations(
        real_upstreams.url("profiles"), real_upstreams.url("catalog")
    )
    body = await homepage(client, region="GB")
    assert body["degraded"] is False
    assert body["rows"][0]["name"] == "Top picks in documentary"
    for row in body["rows"]:
        for title in row["titles"]:
            assert title["maturity_rating"] in ("all", "7+")


async def test_profiles_failing_degrades_to_default_preferences(
    upstream_failure: str,
    real_upstreams: RealUpstreams,
    aiohttp_client: AiohttpClient,
    start_recommendations: StartRecommendations,
) -> None:
    await write_favourite_genre(real_upstreams, aiohttp_client, "documentary")
    client = await start_recommendations(
        real_upstreams.url("profiles"), real_upstreams.url("catalog")
    )
    await real_upstreams.fail("profiles", upstream_failure)
    body = await homepage(client, region="GB")
    assert (body["degraded"], body["fallback"]) == (True, "default_preferences")
    assert [row["name"] for row in body["rows"]] == ["Popular in GB"]  # no documentary row
    assert fallbacks(client, "default_preferences") == 1
    assert fallbacks(client, "cached_popular") == 0


async def test_catalog_failing_serves_the_cached_popular_list(
    upstream_failure: str,
    real_upstreams: RealUpstreams,
    start_recommendations: StartRecommendations,
) -> None:
    client = await start_recommendations(
        real_upstreams.url("profiles"), real_upstreams.url("catalog")
    )
    healthy = await seed(client, region="GB")
    since = counted(client)
    await real_upstreams.fail("catalog", upstream_failure)
    body = await homepage(client, region="GB")
    assert (body["degraded"], body["fallback"]) == (True, "cached_popular")
    assert body["rows"] == healthy["rows"]
    assert since("cached_popular") == 1
    assert since("default_preferences") == 0


async def test_catalog_failing_with_nothing_cached_for_the_region_is_a_503(
    upstream_failure: str,
    real_upstreams: RealUpstreams,
    start_recommendations: StartRecommendations,
) -> None:
    client = await start_recommendations(
        real_upstreams.url("profiles"), real_upstreams.url("catalog")
    )
    await real_upstreams.fail("catalog", upstream_failure)
    response = await client.get("/recommendations/m-42?region=JP")  # never cached
    assert response.status == 503
    body = await response.json()
    assert (body["degraded"], body["fallback"]) == (True, None)
    assert fallbacks(client, "cached_popular", "failed") == 1
    assert fallbacks(client, "cached_popular", "served") == 0


async def test_both_failing_serves_default_preferences_over_the_cached_popular_list(
    upstream_failure: str,
    real_upstreams: RealUpstreams,
    aiohttp_client: AiohttpClient,
    start_recommendations: StartRecommendations,
) -> None:
    await write_favourite_genre(real_upstreams, aiohttp_client, "documentary")
    client = await start_recommendations(
        real_upstreams.url("profiles"), real_upstreams.url("catalog")
    )
    await seed(client, region="GB")
    since = counted(client)
    await real_upstreams.fail("profiles", upstream_failure)
    await real_upstreams.fail("catalog", upstream_failure)
    body = await homepage(client, region="GB")
    assert (body["degraded"], body["fallback"]) == (True, "default_preferences+cached_popular")
    assert [row["name"] for row in body["rows"]] == ["Popular in GB"]
    assert since("default_preferences") == 1
    assert since("cached_popular") == 1
