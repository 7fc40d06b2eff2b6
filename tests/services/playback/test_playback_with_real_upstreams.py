"""Playback against the real catalog and profiles apps on loopback.

Each fallback is proven for every way an upstream fails (`upstream_failure`:
down, slow or erroring, made with the real app's own control API; see
../conftest.py), and the answer, `chaosbed_fallbacks_total` and
`chaosbed_playback_starts_total` all say so.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from services.common import METRICS

from ..conftest import RealUpstreams
from .conftest import StartPlayback


def sample(client: TestClient[web.Request, web.Application], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (others may be added)."""
    wanted = {"service": "playback", **labels}
    return sum(
        s.value
        for family in client.app[METRICS].registry.collect()
        for s in family.samples
        if s.name == name and wanted.items() <= s.labels.items()
    )


def fallbacks(client: Any, fallback: str, result: str = "served") -> float:
    return sample(client, "chaosbed_fallbacks_total", fallback=fallback, result=result)


def starts(client: Any, outcome: str) -> float:
    return sample(client, "chaosbed_playback_starts_total", outcome=outcome)


async def play(client: Any, member: str, title: int, status: int = 200) -> Any:
    response = await client.post("/playback/start", json={"member": member, "title": title})
    assert response.status == status, await response.text()
    return await response.json()


async def start_on(upstreams: Any, start_playback: Any) -> Any:
    return await start_playback(upstreams.url("profiles"), upstreams.url("catalog"))


async def test_a_kids_profile_is_refused_an_adult_title(
    real_upstreams: RealUpstreams, aiohttp_client: AiohttpClient, start_playback: StartPlayback
) -> None:
    writer: TestClient[web.Request, None] = await aiohttp_client(real_upstreams.profiles)
    await writer.patch(
        "/profiles/m-kid", json={"maturity_level": "7+"}, headers={"Idempotency-Key": "k"}
    )
    client = await start_on(real_upstreams, start_playback)
    await play(client, "m-kid", real_upstreams.first_title("7+"))
    denied = await play(client, "m-kid", real_upstreams.first_title("18+"), status=403)
    assert denied["reason"] == "maturity"


async def test_an_id_beyond_the_catalog_is_a_404(
    real_upstreams: RealUpstreams, start_playback: StartPlayback
) -> None:
    client = await start_on(real_upstreams, start_playback)
    await play(client, "m-1", len(real_upstreams.titles) + 1, status=404)


async def test_profiles_failing_falls_back_to_the_cached_profile(
    upstream_failure: str, real_upstreams: RealUpstreams, start_playback: StartPlayback
) -> None:
    client = await start_on(real_upstreams, start_playback)
    adult = real_upstreams.first_title("18+")
    await play(client, "m-1", adult)  # caches m-1's profile (18+ by default)
    await real_upstreams.fail("profiles", upstream_failure)
    body = await play(client, "m-1", adult)
    assert (body["degraded"], body["fallback"]) == (True, "cached_profile")
    assert body["manifest"]["url"]
    assert fallbacks(client, "cached_profile") == 1
    assert fallbacks(client, "all_ages_only") == 0
    assert starts(client, "started") == 2


async def test_profiles_failing_with_no_cached_profile_still_starts_an_all_ages_title(
    upstream_failure: str, real_upstreams: RealUpstreams, start_playback: StartPlayback
) -> None:
    client = await start_on(real_upstreams, start_playback)
    await real_upstreams.fail("profiles", upstream_failure)
    body = await play(client, "m-1", real_upstreams.first_title("all"))
    assert (body["degraded"], body["fallback"]) == (True, "all_ages_only")
    assert fallbacks(client, "all_ages_only") == 1
    assert starts(client, "started") == 1


async def test_profiles_failing_with_no_cached_profile_refuses_an_older_rated_title_with_503(
    upstream_failure: str, real_upstreams: RealUpstreams, start_playback: StartPlayback
) -> None:
    client = await start_on(real_upstreams, start_playback)
    await real_upstreams.fail("profiles", upstream_failure)
    body = await play(client, "m-1", real_upstreams.first_title("13+"), status=503)
    assert body["reason"] == "profile_unavailable"
    assert (body["degraded"], body["fallback"]) == (True, "all_ages_only")
    assert fallbacks(client, "all_ages_only", "failed") == 1
    assert fallbacks(client, "all_ages_only", "served") == 0
    assert (starts(client, "failed"), starts(client, "started")) == (1, 0)


async def test_catalog_failing_falls_back_to_the_cached_title(
    upstream_failure: str, real_upstreams: RealUpstreams, start_playback: StartPlayback
) -> None:
    client = await start_on(real_upstreams, start_playback)
    title = real_upstreams.first_title("16+")
    await play(client, "m-1", title)  # caches the title
    await real_upstreams.fail("catalog", upstream_failure)
    body = await play(client, "m-1", title)
    assert (body["degraded"], body["fallback"]) == (True, "cached_title")
    assert body["manifest"]["url"]
    assert fallbacks(client, "cached_title") == 1
    assert starts(client, "started") == 2


async def test_catalog_failing_with_the_title_not_cached_is_a_503_counted_as_failed(
    upstream_failure: str, real_upstreams: RealUpstreams, start_playback: StartPlayback
) -> None:
    client = await start_on(real_upstreams, start_playback)
    await play(client, "m-1", real_upstreams.first_title("all"))  # a different title is cached
    await real_upstreams.fail("catalog", upstream_failure)
    body = await play(client, "m-1", real_upstreams.first_title("18+"), status=503)
    assert body["reason"] == "catalog_unavailable"
    assert (body["degraded"], body["fallback"]) == (True, None)
    assert fallbacks(client, "cached_title", "failed") == 1
    assert fallbacks(client, "cached_title", "served") == 0
    assert (starts(client, "failed"), starts(client, "started")) == (1, 1)
