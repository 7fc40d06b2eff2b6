"""HTTP handlers of the catalog: lookups on the index built at start."""

from __future__ import annotations

from aiohttp import web

from services.catalog.index import CatalogIndex
from services.catalog.params import parse_choice, parse_limit, parse_title_id
from services.common import InvalidField, bad_request, json_error
from services.vocabulary import GENRES, REGIONS, Title

CATALOG = web.AppKey("catalog", CatalogIndex)


def _listing(titles: tuple[Title, ...], **query: object) -> web.Response:
    return web.json_response(
        {**query, "count": len(titles), "titles": [title.to_json() for title in titles]}
    )


async def get_title(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]
    try:
        title_id = parse_title_id(request.match_info["id"])
    except InvalidField as exc:
        return bad_request(exc)
    title = catalog.get(title_id)
    if title is None:
        return json_error(
            404, f"no title {title_id}: ids run from 1 to {catalog.size}", id=title_id
        )
    return web.json_response(title.to_json())


async def list_titles(request: web.Request) -> web.Response:
    """Titles of a genre (or of all genres), most popular first."""
    try:
        genre = parse_choice("genre", request.query.get("genre"), GENRES)
        limit = parse_limit(request.query.get("limit"))
    except InvalidField as exc:
        return bad_request(exc)
    return _listing(request.app[CATALOG].by_genre(genre, limit), genre=genre, limit=limit)


async def popular(request: web.Request) -> web.Response:
    """Titles available in a region (or anywhere), most popular first."""
    try:
        region = parse_choice("region", request.query.get("region"), REGIONS)
        limit = parse_limit(request.query.get("limit"))
    except InvalidField as exc:
        return bad_request(exc)
    return _listing(request.app[CATALOG].popular_in(region, limit), region=region, limit=limit)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/titles/{id}", get_title)
    app.router.add_get("/titles", list_titles)
    app.router.add_get("/popular", popular)
