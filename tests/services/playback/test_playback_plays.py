"""A start is recorded in the member's play log at profiles, with one try and never a retry."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from services.common import METRICS
from services.playback import PlaybackSettings, create_app

from .conftest import make_settings


async def _start(client: Any, member: str, title: int) -> Any:
    response = await client.post("/playback/start", json={"member": member, "title": title})
    assert response.status == 200, await response.text()
    return response


async def test_a_start_is_recorded_once_in_the_real_play_log(
    real_upstreams: Any, start_playback: Any
) -> None:
    client = await start_playback(real_upstreams.url("profiles"), real_upstreams.url("catalog"))
    await _start(client, "m-1", real_upstreams.first_title("all"))
    registry = real_upstreams.profiles.app[METRICS].registry
    recorded = {"service": "profiles", "result": "recorded"}
    assert registry.get_sample_value("chaosbed_profile_plays_total", recorded) == 1.0


async def test_a_failed_play_record_is_not_retried_and_the_start_goes_on(
    aiohttp_client: Any, aiohttp_server: Any, fake_catalog: Any, fast_dependency: Any
) -> None:
    posts: list[str] = []

    async def profile(request: web.Request) -> web.Response:
        member = request.match_info["member"]
        prefs = {"maturity_level": "18+", "languages": ["en"], "subtitles": False,
                 "favourite_genres": [], "autoplay": True}  # fmt: skip
        return web.json_response({"member": member, "preferences": prefs, "version": 0})

    async def failing_plays(request: web.Request) -> web.Response:
        posts.append(request.headers.get("X-Request-Id", ""))
        return web.json_response({"error": "boom"}, status=500)  # retriable, were it idempotent

    profiles = web.Application()
    profiles.router.add_get("/profiles/{member}", profile)
    profiles.router.add_post("/profiles/{member}/plays", failing_plays)
    server = await aiohttp_server(profiles)
    settings: PlaybackSettings = make_settings(
        fast_dependency, str(server.make_url("")).rstrip("/"), fake_catalog.url
    )
    retrying = dataclasses.replace(settings.profiles, attempts=3)
    client = await aiohttp_client(create_app(dataclasses.replace(settings, profiles=retrying)))
    await _start(client, "m-1", 1)  # an all-ages title of the fake catalog
    assert len(posts) == 1
