"""GET /recommendations/{member}: rows, fallbacks and what the answer says."""

from __future__ import annotations

from typing import Any

import pytest

from services.common import METRICS
from services.recommendations.handlers import FALLBACKS, POPULAR_CACHE
from tests.waiting import until

from ..conftest import Fake
from .conftest import StartRecommendations


def fallbacks(client: Any, fallback: str, result: str) -> float:
    value = client.app[METRICS].registry.get_sample_value(
        "chaosbed_fallbacks_total",
        {
            "service": "recommendations",
            "dependency": FALLBACKS[fallback],
            "fallback": fallback,
            "result": result,
        },
    )
    return value or 0.0


async def get_json(client: Any, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return await response.json()


def titles_of(row: dict[str, Any]) -> list[int]:
    return [title["id"] for title in row["titles"]]


async def make_degraded(fake: Any, mode: str) -> None:
    if mode == "down":
        await fake.stop()
    else:
        fake.mode = mode


DEGRADED_MODES = ["down", "slow", "error"]


async def test_normal_answer_is_not_degraded(
    fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    body = await get_json(client, "/recommendations/m-horror")
    assert body["degraded"] is False
    assert body["fallback"] is None
    assert body["member"] == "m-horror"


async def test_favourite_genre_rows_come_first_then_popular(
    fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    body = await get_json(client, "/recommendations/m-horror?region=US")
    names = [row["name"] for row in body["rows"]]
    assert names == ["Top picks in horror", "Top picks in comedy", "Popular in US"]
    assert titles_of(body["rows"][0]) == [2, 7]  # most popular first
    assert 4 not in titles_of(body["rows"][1])  # Tokyo Laughs is JP only


async def test_rows_respect_the_members_maturity_level(
    fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    body = await get_json(client, "/recommendations/m-kid")
    shown = {title["maturity_rating"] for row in body["rows"] for title in row["titles"]}
    assert shown <= {"all", "7+"}
    assert body["rows"][0]["name"] == "Top picks in family"
    assert titles_of(body["rows"][0]) == [1, 6]


async def test_region_query_selects_the_regional_popular_row(
    fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    body = await get_json(client, "/recommendations/m-new?region=JP")
    assert body["rows"][-1]["name"] == "Popular in JP"
    assert 4 in titles_of(body["rows"][-1])
    assert 2 not in titles_of(body["rows"][-1])  # Night Terror is GB and US only


@pytest.mark.parametrize("mode", DEGRADED_MODES)
async def test_profiles_unavailable_ranks_with_default_preferences(
    mode: str, fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    await make_degraded(fake_profiles, mode)
    body = await get_json(client, "/recommendations/m-horror")
    assert body["degraded"] is True
    assert body["fallback"] == "default_preferences"
    assert [row["name"] for row in body["rows"]] == ["Popular in US"]
    ratings = {title["maturity_rating"] for title in body["rows"][0]["titles"]}
    assert ratings <= {"all", "7+", "13+"}  # the defaults are not the permissive 18+
    assert fallbacks(client, "default_preferences", "served") == 1


@pytest.mark.parametrize("mode", DEGRADED_MODES)
async def test_catalog_unavailable_serves_the_cached_popular_list(
    mode: str, fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    fresh = await get_json(client, "/recommendations/m-horror")
    await make_degraded(fake_catalog, mode)
    body = await get_json(client, "/recommendations/m-horror")
    assert body["degraded"] is True
    assert body["fallback"] == "cached_popular"
    assert body["rows"][0]["name"] == "Top picks in horror"  # carved out of the cached list
    cached_ids = {i for row in body["rows"] for i in titles_of(row)}
    assert cached_ids == {i for row in fresh["rows"] for i in titles_of(row)}
    assert fallbacks(client, "cached_popular", "served") == 1


async def test_popular_cache_is_seeded_at_startup_without_any_request(
    fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    await until(lambda: "US" in client.app[POPULAR_CACHE], what="the cache seeded")
    await fake_catalog.stop()
    body = await get_json(client, "/recommendations/m-new")
    assert body["fallback"] == "cached_popular"
    assert titles_of(body["rows"][0])


async def test_seeding_retries_until_the_catalog_answers(
    fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    fake_catalog.mode = "error"
    client = await start_recommendations(fake_profiles.url, fake_catalog.url, seed_retry_s=0.02)
    await until(lambda: len(fake_catalog.calls) >= 2, what="two seeding tries")  # both failed
    assert "US" not in client.app[POPULAR_CACHE]
    fake_catalog.mode = "healthy"
    await until(lambda: "US" in client.app[POPULAR_CACHE], what="the cache seeded")


async def test_catalog_down_and_nothing_cached_is_a_503_that_says_why(
    fake_profiles: Fake, closed_url: str, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, closed_url)
    body = await get_json(client, "/recommendations/m-horror", status=503)
    assert "catalog unavailable" in body["error"]
    assert body["degraded"] is True
    assert fallbacks(client, "cached_popular", "failed") == 1
    assert fallbacks(client, "cached_popular", "served") == 0


async def test_both_unavailable_combines_the_fallbacks(
    fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    await get_json(client, "/recommendations/m-horror")
    await fake_profiles.stop()
    await fake_catalog.stop()
    body = await get_json(client, "/recommendations/m-horror")
    assert body["degraded"] is True
    assert body["fallback"] == "default_preferences+cached_popular"
    assert [row["name"] for row in body["rows"]] == ["Popular in US"]
    assert fallbacks(client, "default_preferences", "served") == 1
    assert fallbacks(client, "cached_popular", "served") == 1


async def test_recovered_catalog_ends_the_degraded_answers(
    fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    await get_json(client, "/recommendations/m-horror")
    fake_catalog.mode = "error"
    assert (await get_json(client, "/recommendations/m-horror"))["degraded"] is True
    fake_catalog.mode = "healthy"
    assert (await get_json(client, "/recommendations/m-horror"))["degraded"] is False


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/recommendations/m%20bad", "member"),
        ("/recommendations/" + "m" * 65, "member"),
        ("/recommendations/m-1?region=XX", "region"),
        ("/recommendations/m-1?region=", "region"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    path: str,
    field: str,
    fake_profiles: Fake,
    fake_catalog: Fake,
    start_recommendations: StartRecommendations,
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    body = await get_json(client, path, status=400)
    assert body["field"] == field


async def test_fallback_series_exist_at_zero(
    fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    text = await (await client.get("/metrics")).text()
    for fallback in ("default_preferences", "cached_popular"):
        for result in ("served", "failed"):
            assert (
                f'chaosbed_fallbacks_total{{dependency="{FALLBACKS[fallback]}",'
                f'fallback="{fallback}",result="{result}",service="recommendations"}} 0.0' in text
            )


async def test_a_failing_genre_call_falls_back_to_the_cached_popular_list(
    fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    fake_catalog.failing_paths.add("/titles")
    body = await get_json(client, "/recommendations/m-horror")
    assert body["fallback"] == "cached_popular"
    assert body["rows"][0]["name"] == "Top picks in horror"


async def test_an_unusable_profile_ranks_with_default_preferences(
    fake_profiles: Fake, fake_catalog: Fake, start_recommendations: StartRecommendations
) -> None:
    client = await start_recommendations(fake_profiles.url, fake_catalog.url)
    body = await get_json(client, "/recommendations/m-garbled")
    assert body["fallback"] == "default_preferences"
