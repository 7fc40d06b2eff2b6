"""POST /playback/start: checks, manifest, fallbacks and the starts counter."""

from __future__ import annotations

from typing import Any

import pytest

from services.common import METRICS
from services.playback.lookups import FALLBACKS

from ..conftest import Fake
from .conftest import StartPlayback


def starts(client: Any, outcome: str, cohort: str = "none") -> float:
    value = client.app[METRICS].registry.get_sample_value(
        "chaosbed_playback_starts_total",
        {"service": "playback", "outcome": outcome, "cohort": cohort},
    )
    return value or 0.0


def fallbacks(client: Any, fallback: str, result: str) -> float:
    labels = {"service": "playback", "dependency": FALLBACKS[fallback]}
    value = client.app[METRICS].registry.get_sample_value(
        "chaosbed_fallbacks_total", {**labels, "fallback": fallback, "result": result}
    )
    return value or 0.0


async def play(client: Any, body: Any, status: int = 200, **kwargs: Any) -> Any:
    response = await client.post("/playback/start", json=body, **kwargs)
    assert response.status == status, await response.text()
    return await response.json()


async def make_degraded(fake: Any, mode: str) -> None:
    if mode == "down":
        await fake.stop()
    else:
        fake.mode = mode


DEGRADED_MODES = ["down", "slow", "error"]
ALL_AGES, ADULT_US, JP_ONLY, TEEN = 1, 2, 4, 3


async def test_a_start_returns_a_manifest_and_is_not_degraded(
    fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    body = await play(client, {"member": "m-horror", "title": ADULT_US})
    assert (body["member"], body["title"]) == ("m-horror", ADULT_US)
    manifest = body["manifest"]
    assert manifest["url"].startswith(f"https://{manifest['cdn']}/")
    assert manifest["bitrates"] == sorted(manifest["bitrates"]) and manifest["bitrates"]
    assert (body["degraded"], body["fallback"]) == (False, None)


async def test_a_start_is_counted_as_started(
    fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    await play(client, {"member": "m-1", "title": ALL_AGES})
    assert starts(client, "started") == 1
    assert starts(client, "denied") == starts(client, "failed") == 0


@pytest.mark.parametrize("cohort", ["control", "experiment"])
async def test_starts_are_counted_by_the_requests_cohort(
    cohort: str, fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    await play(client, {"member": "m-1", "title": ALL_AGES}, headers={"X-Chaos-Cohort": cohort})
    assert starts(client, "started", cohort) == 1
    assert starts(client, "started", "none") == 0


async def test_every_starts_series_exists_at_zero(
    fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    text = await (await client.get("/metrics")).text()
    for outcome in ("started", "denied", "failed"):
        for cohort in ("control", "experiment", "none"):
            sample = (
                f'chaosbed_playback_starts_total{{cohort="{cohort}",outcome="{outcome}",'
                'service="playback"} 0.0'
            )
            assert sample in text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ("not an object", "body"),
        ({"title": 1}, "member"),
        ({"member": "", "title": 1}, "member"),
        ({"member": 42, "title": 1}, "member"),
        ({"member": "m 1", "title": 1}, "member"),
        ({"member": "m-1"}, "title"),
        ({"member": "m-1", "title": "1"}, "title"),
        ({"member": "m-1", "title": 0}, "title"),
        ({"member": "m-1", "title": True}, "title"),
        ({"member": "m-1", "title": 1.5}, "title"),
        ({"member": "m-1", "title": 1, "region": "XX"}, "region"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    body: object, field: str, fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    answer = await play(client, body, status=400)
    assert answer["field"] == field
    assert starts(client, "denied") == 1
    assert fake_catalog.calls == fake_profiles.calls == []


async def test_a_body_that_is_not_json_is_a_400(
    fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    response = await client.post("/playback/start", data=b"{nope")
    assert response.status == 400
    assert (await response.json())["field"] == "body"


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"[" * 100_000, "application/json"),  # deeper than the parser's recursion
        (b'{"member": "m-1", "title": 1}', "application/json; charset=no-such-charset"),
    ],
    ids=["deeply-nested", "unknown-charset"],
)
async def test_a_body_that_cannot_be_read_as_json_is_a_400_not_a_500(
    fake_profiles: Fake,
    fake_catalog: Fake,
    start_playback: StartPlayback,
    raw: bytes,
    content_type: str,
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    response = await client.post(
        "/playback/start", data=raw, headers={"Content-Type": content_type}
    )
    assert response.status == 400, await response.text()
    assert (await response.json())["field"] == "body"
    assert starts(client, "denied") == 1


async def test_an_unknown_title_is_a_404(
    fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    await play(client, {"member": "m-1", "title": 999}, status=404)
    assert starts(client, "denied") == 1


async def test_maturity_above_the_profiles_level_is_a_403(
    fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    body = await play(client, {"member": "m-kid", "title": TEEN}, status=403)
    assert body["reason"] == "maturity"
    assert "13+" in body["error"]
    assert starts(client, "denied") == 1


async def test_a_title_not_available_in_the_region_is_a_403(
    fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    body = await play(client, {"member": "m-1", "title": JP_ONLY}, status=403)
    assert body["reason"] == "region"
    await play(client, {"member": "m-1", "title": JP_ONLY, "region": "JP"})


@pytest.mark.parametrize("mode", DEGRADED_MODES)
async def test_profiles_unavailable_uses_the_cached_profile(
    mode: str, fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    await play(client, {"member": "m-kid", "title": ALL_AGES})
    await make_degraded(fake_profiles, mode)
    body = await play(client, {"member": "m-kid", "title": 6})
    assert (body["degraded"], body["fallback"]) == (True, "cached_profile")
    denied = await play(client, {"member": "m-kid", "title": TEEN}, status=403)
    assert (denied["reason"], denied["fallback"]) == ("maturity", "cached_profile")
    assert fallbacks(client, "cached_profile", "served") == 2


@pytest.mark.parametrize("mode", DEGRADED_MODES)
async def test_profiles_unavailable_without_cache_allows_all_ages_titles(
    mode: str, fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    await make_degraded(fake_profiles, mode)
    body = await play(client, {"member": "m-horror", "title": ALL_AGES})
    assert (body["degraded"], body["fallback"]) == (True, "all_ages_only")
    assert starts(client, "started") == 1
    assert fallbacks(client, "all_ages_only", "served") == 1


@pytest.mark.parametrize("mode", DEGRADED_MODES)
async def test_profiles_unavailable_without_cache_refuses_other_titles_with_503(
    mode: str, fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    await make_degraded(fake_profiles, mode)
    body = await play(client, {"member": "m-horror", "title": ADULT_US}, status=503)
    assert body["reason"] == "profile_unavailable"
    assert "only all-ages titles" in body["error"]
    assert (body["degraded"], body["fallback"]) == (True, "all_ages_only")
    assert starts(client, "failed") == 1
    assert fallbacks(client, "all_ages_only", "failed") == 1


@pytest.mark.parametrize("mode", DEGRADED_MODES)
async def test_catalog_unavailable_uses_the_cached_title(
    mode: str, fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    await play(client, {"member": "m-horror", "title": ADULT_US})
    await make_degraded(fake_catalog, mode)
    body = await play(client, {"member": "m-horror", "title": ADULT_US})
    assert (body["degraded"], body["fallback"]) == (True, "cached_title")
    assert fallbacks(client, "cached_title", "served") == 1
    assert starts(client, "started") == 2


@pytest.mark.parametrize("mode", DEGRADED_MODES)
async def test_catalog_unavailable_without_cache_fails_the_start(
    mode: str, fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    await make_degraded(fake_catalog, mode)
    body = await play(client, {"member": "m-horror", "title": ADULT_US}, status=503)
    assert body["reason"] == "catalog_unavailable"
    assert body["degraded"] is True
    assert starts(client, "failed") == 1
    assert fallbacks(client, "cached_title", "failed") == 1


async def test_a_region_refusal_from_a_cached_title_still_stands(
    fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    await play(client, {"member": "m-1", "title": JP_ONLY, "region": "JP"})
    await fake_catalog.stop()
    body = await play(client, {"member": "m-1", "title": JP_ONLY, "region": "US"}, status=403)
    assert (body["reason"], body["fallback"]) == ("region", "cached_title")


async def test_both_unavailable_combines_the_fallbacks(
    fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    await play(client, {"member": "m-horror", "title": ADULT_US})
    await fake_profiles.stop()
    await fake_catalog.stop()
    body = await play(client, {"member": "m-horror", "title": ADULT_US})
    assert body["fallback"] == "cached_profile+cached_title"


async def test_both_down_at_start_fails_and_counts_once(
    closed_url: str, start_playback: StartPlayback
) -> None:
    client = await start_playback(closed_url, closed_url)
    await play(client, {"member": "m-1", "title": ALL_AGES}, status=503)
    total = sum(starts(client, o) for o in ("started", "denied", "failed"))
    assert (total, starts(client, "failed")) == (1, 1)


async def test_an_unusable_profile_is_treated_as_unavailable(
    fake_profiles: Fake, fake_catalog: Fake, start_playback: StartPlayback
) -> None:
    client = await start_playback(fake_profiles.url, fake_catalog.url)
    body = await play(client, {"member": "m-garbled", "title": ALL_AGES})
    assert body["fallback"] == "all_ages_only"
