"""The profiles app on loopback: reads, idempotent atomic writes, durability."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from services.common import ServiceSettings
from services.profiles.app import create_app
from services.profiles.handlers import STORE
from services.profiles.settings import ProfilesSettings

Client = TestClient[Any, Any]
MakeClient = Callable[[], Awaitable[Client]]


@pytest.fixture
def make_client(aiohttp_client: Any, tmp_path: Path) -> MakeClient:
    """Start a profiles app on a database in tmp_path (the same file every time)."""

    async def make() -> Client:
        settings = ProfilesSettings(
            ServiceSettings(name="profiles", port=0), db_path=tmp_path / "data" / "profiles.db"
        )
        app: web.Application = create_app(settings, registry=CollectorRegistry())
        return await aiohttp_client(app)  # type: ignore[no-any-return]

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    return await make_client()


async def patch(
    client: Client, member: str, body: object, key: str | None, status: int = 200
) -> Any:
    headers = {} if key is None else {"Idempotency-Key": key}
    response = await client.patch(f"/profiles/{member}", json=body, headers=headers)
    assert response.status == status, await response.text()
    return await response.json()


async def get_profile(client: Client, member: str) -> Any:
    response = await client.get(f"/profiles/{member}")
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_new_member_has_the_defaults_at_version_zero(client: Client) -> None:
    assert await get_profile(client, "m-42") == {
        "member": "m-42",
        "preferences": {
            "maturity_level": "18+",
            "languages": ["en"],
            "subtitles": False,
            "favourite_genres": [],
            "autoplay": True,
        },
        "version": 0,
    }


async def test_a_write_returns_the_new_profile_and_is_read_back(client: Client) -> None:
    body = {"maturity_level": "13+", "favourite_genres": ["comedy", "drama"]}
    written = await patch(client, "m-1", body, "k1")
    assert written["version"] == 1
    assert written["preferences"]["favourite_genres"] == ["comedy", "drama"]
    assert await get_profile(client, "m-1") == written


async def test_a_write_retried_with_the_same_key_applies_once(client: Client) -> None:
    first = await client.patch(
        "/profiles/m-1", json={"subtitles": True}, headers={"Idempotency-Key": "k1"}
    )
    retry = await client.patch(
        "/profiles/m-1", json={"subtitles": True}, headers={"Idempotency-Key": "k1"}
    )
    assert (first.status, retry.status) == (200, 200)
    assert "Idempotency-Replayed" not in first.headers
    assert retry.headers["Idempotency-Replayed"] == "true"
    assert await retry.json() == await first.json()
    assert (await get_profile(client, "m-1"))["version"] == 1


async def test_the_same_key_with_another_body_is_refused_with_422(client: Client) -> None:
    await patch(client, "m-1", {"subtitles": True}, "k1")
    body = await patch(client, "m-1", {"subtitles": False}, "k1", status=422)
    assert body["field"] == "Idempotency-Key"
    assert "already used" in body["error"]
    profile = await get_profile(client, "m-1")
    assert (profile["version"], profile["preferences"]["subtitles"]) == (1, True)


async def test_a_write_without_an_idempotency_key_is_refused(client: Client) -> None:
    body = await patch(client, "m-1", {"subtitles": True}, None, status=400)
    assert body["field"] == "Idempotency-Key"
    assert (await get_profile(client, "m-1"))["version"] == 0


async def test_a_multi_field_update_with_one_bad_field_changes_nothing(client: Client) -> None:
    await patch(client, "m-1", {"languages": ["de"]}, "k1")
    bad = {"maturity_level": "7+", "subtitles": True, "favourite_genres": ["western"]}
    body = await patch(client, "m-1", bad, "k2", status=400)
    assert body["field"] == "favourite_genres"
    profile = await get_profile(client, "m-1")
    assert profile["version"] == 1
    assert profile["preferences"]["maturity_level"] == "18+"
    assert profile["preferences"]["subtitles"] is False


async def test_a_multi_field_update_applies_every_field_in_one_version(client: Client) -> None:
    body = {"maturity_level": "7+", "subtitles": True, "autoplay": False, "languages": ["es"]}
    written = await patch(client, "m-1", body, "k1")
    assert written["version"] == 1
    assert {name: written["preferences"][name] for name in body} == body


async def test_an_unknown_field_is_refused_naming_it(client: Client) -> None:
    body = await patch(client, "m-1", {"subtitles": True, "volume": 11}, "k1", status=400)
    assert body["field"] == "volume"


async def test_a_body_that_is_not_json_is_refused_as_body(client: Client) -> None:
    response = await client.patch(
        "/profiles/m-1", data=b"{not json", headers={"Idempotency-Key": "k1"}
    )
    assert response.status == 400
    assert (await response.json())["field"] == "body"


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000, b"1" * 5_000],  # nesting deeper than the parser's recursion, a huge integer
    ids=["deeply-nested", "huge-integer"],
)
async def test_json_the_parser_refuses_is_a_400_naming_the_body_not_a_500(
    client: Client, raw: bytes
) -> None:
    response = await client.patch("/profiles/m-1", data=raw, headers={"Idempotency-Key": "k1"})
    assert response.status == 400, await response.text()
    assert (await response.json())["field"] == "body"


@pytest.mark.parametrize("method", ["GET", "PATCH"])
async def test_a_malformed_member_id_is_refused_naming_member(client: Client, method: str) -> None:
    response = await client.request(
        method, "/profiles/m.1", json={"subtitles": True}, headers={"Idempotency-Key": "k"}
    )
    assert response.status == 400
    assert (await response.json())["field"] == "member"


async def test_an_acknowledged_write_survives_a_restart(make_client: MakeClient) -> None:
    first = await make_client()
    await patch(first, "m-7", {"maturity_level": "16+", "languages": ["ja", "en"]}, "k1")
    await first.close()

    second = await make_client()
    profile = await get_profile(second, "m-7")
    assert profile["version"] == 1
    assert profile["preferences"]["languages"] == ["ja", "en"]
    replay = await patch(second, "m-7", {"maturity_level": "16+", "languages": ["ja", "en"]}, "k1")
    assert replay["version"] == 1


async def test_concurrent_writes_each_get_their_own_version(client: Client) -> None:
    writes = [patch(client, "m-1", {"subtitles": n % 2 == 0}, f"k{n}") for n in range(20)]
    results = await asyncio.gather(*writes)
    assert sorted(result["version"] for result in results) == list(range(1, 21))
    assert (await get_profile(client, "m-1"))["version"] == 20


async def test_concurrent_retries_of_one_write_apply_once(client: Client) -> None:
    retries = [patch(client, "m-1", {"autoplay": False}, "same-key") for _ in range(10)]
    results = await asyncio.gather(*retries)
    assert {result["version"] for result in results} == {1}
    assert (await get_profile(client, "m-1"))["version"] == 1


async def test_ready_once_the_database_is_open(client: Client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["ready"] is True


async def test_writes_are_counted_by_result_never_by_member(client: Client) -> None:
    await patch(client, "m-31337", {"subtitles": True}, "k1")
    await patch(client, "m-31337", {"subtitles": True}, "k1")
    await patch(client, "m-31337", {"subtitles": "yes"}, "k2", status=400)
    text = await (await client.get("/metrics")).text()
    samples = [
        sample for family in text_string_to_metric_families(text) for sample in family.samples
    ]
    writes = {
        s.labels["result"]: s.value for s in samples if s.name == "chaosbed_profile_writes_total"
    }
    assert writes == {"applied": 1, "replayed": 1, "conflict": 0, "invalid": 1, "failed": 0}
    assert not any("31337" in value for s in samples for value in s.labels.values())


async def test_a_closed_store_answers_503_and_is_not_ready(client: Client) -> None:
    await client.app[STORE].close()
    response = await client.get("/profiles/m-1")
    assert response.status == 503
    assert "profile store unavailable" in (await response.json())["error"]
    written = await client.patch(
        "/profiles/m-1", json={"subtitles": True}, headers={"Idempotency-Key": "k"}
    )
    assert written.status == 503
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["failing"] == ["profile_store_open"]
