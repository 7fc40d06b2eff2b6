"""The play log: POST /profiles/{member}/plays appends, never idempotent, repeats counted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from services.common import METRICS, DependencySettings, ServiceSettings
from services.profiles.app import create_app
from services.profiles.settings import ProfilesSettings
from services.vocabulary.homes import home_replica, replica_name

Client = TestClient[Any, Any]


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> Client:
    settings = ProfilesSettings(
        ServiceSettings(name="profiles", port=0), db_path=tmp_path / "profiles.db"
    )
    app = create_app(settings, registry=CollectorRegistry())
    return await aiohttp_client(app)  # type: ignore[no-any-return]


async def play(client: Client, member: str, title: object, request_id: str) -> Any:
    return await client.post(
        f"/profiles/{member}/plays", json={"title": title}, headers={"X-Request-Id": request_id}
    )


def plays_counted(client: Client, result: str) -> float:
    registry = client.app[METRICS].registry
    labels = {"service": "profiles", "result": result}
    return registry.get_sample_value("chaosbed_profile_plays_total", labels) or 0.0


async def test_a_play_is_appended_and_answered_201_with_the_members_count(client: Client) -> None:
    first = await play(client, "m-1", 7, "req-a")
    second = await play(client, "m-1", 9, "req-b")
    assert first.status == 201
    assert await first.json() == {"member": "m-1", "title": 7, "plays": 1, "repeated": False}
    assert (await second.json())["plays"] == 2


async def test_the_same_request_sent_twice_is_appended_twice_and_counted_repeated(
    client: Client,
) -> None:
    await play(client, "m-1", 7, "req-a")
    again = await play(client, "m-1", 7, "req-a")
    assert await again.json() == {"member": "m-1", "title": 7, "plays": 2, "repeated": True}
    assert plays_counted(client, "recorded") == 1
    assert plays_counted(client, "repeated") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"title": 0}, "title"), ({"title": "7"}, "title"), ({"title": 7, "x": 1}, "x"), ([], "body")],
)
async def test_a_bad_play_is_a_400_naming_the_field(client: Client, body: Any, field: str) -> None:
    response = await client.post("/profiles/m-1/plays", json=body)
    assert response.status == 400
    assert (await response.json())["field"] == field


@asynccontextmanager
async def us_replica_before(
    aiohttp_client: Any, tmp_path: Path, home: web.Application
) -> AsyncIterator[Client]:
    """Profiles (us) whose peers, eu and apac, are both the app `home`."""
    server = TestServer(home)
    await server.start_server()
    try:
        peers = tuple(
            DependencySettings(name=replica_name(r), base_url=str(server.make_url("")).rstrip("/"))
            for r in ("eu", "apac")
        )
        settings = ProfilesSettings(
            ServiceSettings(name="profiles", port=0), db_path=tmp_path / "us.db", peers=peers
        )
        yield await aiohttp_client(create_app(settings, registry=CollectorRegistry()))
    finally:
        await server.close()


EU_MEMBER = next(f"m-{i}" for i in range(100) if home_replica(f"m-{i}") == "profiles-eu")


async def test_a_non_home_replica_forwards_a_play_once_without_retrying_it(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    received: list[str] = []

    async def failing_home(request: web.Request) -> web.Response:
        received.append(request.headers.get("X-Request-Id", ""))
        return web.json_response({"error": "boom"}, status=500)  # retriable, if it were idempotent

    home = web.Application()
    home.router.add_post("/profiles/{member}/plays", failing_home)
    async with us_replica_before(aiohttp_client, tmp_path, home) as client:
        response = await play(client, EU_MEMBER, 7, "req-forwarded")
        assert response.status == 503
        assert received == ["req-forwarded"]


async def test_a_home_replica_answering_no_json_object_is_a_502_naming_it(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """Found by `chaosbed explore` (a malformed answer on the forward): passed through,
    the member got a 200 whose body was not a profile, as if the write had applied."""

    async def garbled_home(request: web.Request) -> web.Response:
        return web.Response(text="<html>oops</html>", content_type="text/html")

    home = web.Application()
    home.router.add_patch("/profiles/{member}", garbled_home)
    async with us_replica_before(aiohttp_client, tmp_path, home) as client:
        response = await client.patch(
            f"/profiles/{EU_MEMBER}", json={"autoplay": True}, headers={"Idempotency-Key": "k-1"}
        )
        assert response.status == 502
        assert response.headers["X-Chaosbed-Upstream-Failure"] == "profiles-eu"
        assert "whether the write was applied is unknown" in (await response.json())["error"]
