"""The no-cached-profile mutant removes playback's cached profile for real."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from services.common import mutants
from services.playback import create_app

from .conftest import make_settings

ALL_AGES = 1


@pytest.fixture(autouse=True)
def no_mutant_left_on() -> Iterator[None]:
    yield
    mutants.switch_on(None)


@pytest.mark.parametrize(
    ("mutant", "fallback"), [(None, "cached_profile"), ("no-cached-profile", "all_ages_only")]
)
async def test_no_cached_profile_forgets_the_profile_it_read_when_profiles_goes_down(
    aiohttp_client: Any,
    fast_dependency: Any,
    fake_profiles: Any,
    fake_catalog: Any,
    mutant: str | None,
    fallback: str,
) -> None:
    settings = make_settings(fast_dependency, fake_profiles.url, fake_catalog.url)
    settings = replace(settings, service=replace(settings.service, mutant=mutant))
    client = await aiohttp_client(create_app(settings))
    body = {"member": "m-kid", "title": ALL_AGES}
    assert (await client.post("/playback/start", json=body)).status == 200  # caches the profile
    await fake_profiles.stop()

    answer = await (await client.post("/playback/start", json=body)).json()

    assert answer["fallback"] == fallback
