"""The catalog app on loopback: routes, errors and the kit's endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from services.catalog.app import create_app
from services.catalog.handlers import CATALOG
from services.catalog.params import MAX_LIMIT
from services.catalog.settings import CatalogSettings
from services.common import ServiceSettings

SIZE = 800
Client = TestClient[Any, Any]


@pytest.fixture
async def client(aiohttp_client: Any) -> Client:
    settings = CatalogSettings(ServiceSettings(name="catalog", port=0), size=SIZE, seed=3)
    app = create_app(settings, registry=CollectorRegistry())
    return await aiohttp_client(app)  # type: ignore[no-any-return]


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


def popularity_order(titles: list[dict[str, Any]]) -> bool:
    keys = [(-title["popularity"], title["id"]) for title in titles]
    return keys == sorted(keys)


async def test_title_lookup_returns_the_title(client: Client) -> None:
    body = await get_json(client, "/titles/17")
    assert body["id"] == 17
    assert set(body) == {
        "id", "name", "genres", "maturity_rating", "regions", "popularity", "year",
        "runtime_minutes",
    }  # fmt: skip


@pytest.mark.parametrize("title_id", ["0", str(SIZE + 1), "-4"])
async def test_unknown_title_is_a_404_json_error(client: Client, title_id: str) -> None:
    body = await get_json(client, f"/titles/{title_id}", status=404)
    assert body["error"].startswith(f"no title {title_id}")


async def test_non_integer_title_id_is_a_400_naming_id(client: Client) -> None:
    body = await get_json(client, "/titles/abc", status=400)
    assert body["field"] == "id"


async def test_titles_by_genre_are_that_genre_most_popular_first(client: Client) -> None:
    body = await get_json(client, "/titles?genre=horror&limit=20")
    assert body["genre"] == "horror" and body["count"] == len(body["titles"]) == 20
    assert all("horror" in title["genres"] for title in body["titles"])
    assert popularity_order(body["titles"])


async def test_titles_without_genre_list_all_genres(client: Client) -> None:
    body = await get_json(client, "/titles?limit=5")
    assert body["genre"] is None and body["count"] == 5


async def test_unknown_genre_is_a_400_naming_genre(client: Client) -> None:
    body = await get_json(client, "/titles?genre=western", status=400)
    assert body["field"] == "genre"
    assert "western" in body["error"]


@pytest.mark.parametrize("path", ["/titles?limit=0", "/titles?limit=x", "/popular?limit=-1"])
async def test_bad_limit_is_a_400_naming_limit(client: Client, path: str) -> None:
    body = await get_json(client, path, status=400)
    assert body["field"] == "limit"


async def test_limit_is_capped(client: Client) -> None:
    body = await get_json(client, f"/popular?limit={MAX_LIMIT * 10}")
    assert body["limit"] == MAX_LIMIT == body["count"]


async def test_popular_in_a_region_is_available_there_most_popular_first(client: Client) -> None:
    body = await get_json(client, "/popular?region=JP&limit=30")
    assert body["region"] == "JP" and body["count"] == 30
    assert all("JP" in title["regions"] for title in body["titles"])
    assert popularity_order(body["titles"])


async def test_unknown_region_is_a_400_naming_region(client: Client) -> None:
    body = await get_json(client, "/popular?region=XX", status=400)
    assert body["field"] == "region"


async def test_health_and_readiness(client: Client) -> None:
    assert (await get_json(client, "/healthz"))["service"] == "catalog"
    assert (await get_json(client, "/readyz"))["ready"] is True


async def test_metrics_label_the_route_template_never_a_title_id(client: Client) -> None:
    await get_json(client, "/titles/123")
    text = await (await client.get("/metrics")).text()
    routes = {
        sample.labels["route"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if "route" in sample.labels
    }
    assert "/titles/{id}" in routes
    assert not any("123" in route for route in routes)


def test_same_settings_give_the_same_catalog_in_two_apps() -> None:
    settings = CatalogSettings(ServiceSettings(name="catalog", port=0), size=50, seed=1)
    first = create_app(settings, registry=CollectorRegistry())[CATALOG]
    second = create_app(settings, registry=CollectorRegistry())[CATALOG]
    assert first == second
