"""The recommendations mutants remove a fallback for real: the member gets a 503."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient

from services.common import DependencySettings, mutants
from services.recommendations import create_app

from ..conftest import Fake
from .conftest import make_settings


@pytest.fixture(autouse=True)
def no_mutant_left_on() -> Iterator[None]:
    yield
    mutants.switch_on(None)


async def start(aiohttp_client: Any, fast_dependency: Any, profiles: Any, catalog: Any,
                mutant: str | None) -> Any:  # fmt: skip
    settings = make_settings(fast_dependency, profiles.url, catalog.url)
    settings = replace(settings, service=replace(settings.service, mutant=mutant))
    return await aiohttp_client(create_app(settings))


@pytest.mark.parametrize(("mutant", "status"), [(None, 200), ("no-default-preferences", 503)])
async def test_no_default_preferences_answers_503_when_profiles_is_down(
    aiohttp_client: AiohttpClient,
    fast_dependency: Callable[[str, str], DependencySettings],
    fake_profiles: Fake,
    fake_catalog: Fake,
    mutant: str | None,
    status: int,
) -> None:
    client = await start(aiohttp_client, fast_dependency, fake_profiles, fake_catalog, mutant)
    await fake_profiles.stop()

    response = await client.get("/recommendations/m-horror")

    assert response.status == status


@pytest.mark.parametrize(("mutant", "status"), [(None, 200), ("no-cached-popular", 503)])
async def test_no_cached_popular_answers_503_when_catalog_fails_with_a_list_cached(
    aiohttp_client: AiohttpClient,
    fast_dependency: Callable[[str, str], DependencySettings],
    fake_profiles: Fake,
    fake_catalog: Fake,
    mutant: str | None,
    status: int,
) -> None:
    client = await start(aiohttp_client, fast_dependency, fake_profiles, fake_catalog, mutant)
    assert (await client.get("/recommendations/m-horror")).status == 200  # caches the list
    fake_catalog.mode = "error"

    response = await client.get("/recommendations/m-horror")

    assert response.status == status
