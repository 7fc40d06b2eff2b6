"""The profiles mutants on a lone replica on loopback: stale reads and TV partial syncs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from services.common import ServiceSettings, mutants
from services.profiles.app import create_app
from services.profiles.settings import ProfilesSettings
from services.vocabulary.devices import DEVICE_TYPE_HEADER


@pytest.fixture(autouse=True)
def no_mutant_left_on() -> Iterator[None]:
    yield
    mutants.switch_on(None)


async def start(aiohttp_client: Any, tmp_path: Path, mutant: str | None) -> Any:
    settings = ProfilesSettings(
        ServiceSettings(name="profiles", port=0, mutant=mutant), db_path=tmp_path / "p.db"
    )
    return await aiohttp_client(create_app(settings, registry=CollectorRegistry()))


@pytest.mark.parametrize(("mutant", "status"), [(None, 503), ("stale-replica-reads", 200)])
async def test_stale_replica_reads_answers_a_version_older_than_min_version(
    aiohttp_client: Any, tmp_path: Path, mutant: str | None, status: int
) -> None:
    client = await start(aiohttp_client, tmp_path, mutant)

    response = await client.get("/profiles/m-1", params={"min_version": "3"})

    assert response.status == status


async def sync_two_fields(client: Any, device: str) -> Any:
    body = {"base_version": 0, "changes": {"maturity_level": "7+", "autoplay": False}}
    headers = {"Idempotency-Key": f"k-{device}", DEVICE_TYPE_HEADER: device}
    response = await client.post("/profiles/m-1/sync", json=body, headers=headers)
    assert response.status == 200, await response.text()
    return await (await client.get("/profiles/m-1")).json()


@pytest.mark.parametrize(
    ("mutant", "device", "whole"),
    [(None, "tv", True), ("partial-sync-tv", "mobile", True), ("partial-sync-tv", "tv", False)],
)
async def test_partial_sync_tv_drops_fields_of_a_tv_sync_only(
    aiohttp_client: Any, tmp_path: Path, mutant: str | None, device: str, whole: bool
) -> None:
    client = await start(aiohttp_client, tmp_path, mutant)

    profile = await sync_two_fields(client, device)

    preferences = profile["preferences"]
    applied = (preferences["maturity_level"], preferences["autoplay"]) == ("7+", False)
    assert applied is whole
    assert profile["version"] == 1
