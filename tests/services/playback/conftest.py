"""The playback app under test, wired to the fake upstreams of ../conftest.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from services.common import DependencySettings, ServiceSettings
from services.playback import PlaybackSettings, create_app


def make_settings(
    dependency: Callable[[str, str], DependencySettings],
    profiles_url: str,
    catalog_url: str,
    **extra: Any,
) -> PlaybackSettings:
    return PlaybackSettings(
        service=ServiceSettings(name="playback", port=0),
        profiles=dependency("profiles", profiles_url),
        catalog=dependency("catalog", catalog_url),
        **extra,
    )


StartPlayback = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
def start_playback(
    aiohttp_client: Any, fast_dependency: Callable[[str, str], DependencySettings]
) -> StartPlayback:
    async def start(profiles_url: str, catalog_url: str, **extra: Any) -> Any:
        return await aiohttp_client(
            create_app(make_settings(fast_dependency, profiles_url, catalog_url, **extra))
        )

    return start
