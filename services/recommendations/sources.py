"""Reading the two dependencies, each answer checked before it is trusted.

Every failure to get a usable answer (a `DependencyError` from the kit, an
unexpected status, a body of the wrong shape) becomes `SourceUnavailable`,
so the handler decides fallbacks on one exception type.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from services.common import Dependency, DependencyError
from services.vocabulary import Preferences, Title, preferences_from_profile


class SourceUnavailable(Exception):
    """A dependency gave no usable answer; the message says why (for logs)."""


async def fetch_preferences(profiles: Dependency, member: str) -> Preferences:
    try:
        response = await profiles.get(f"/profiles/{quote(member, safe='')}")
    except DependencyError as exc:
        raise SourceUnavailable(str(exc)) from exc
    if response.status != 200:
        raise SourceUnavailable(f"profiles answered HTTP {response.status}")
    try:
        return preferences_from_profile(response.data)
    except ValueError as exc:
        raise SourceUnavailable(f"profiles answered an unusable profile: {exc}") from exc


async def fetch_popular(catalog: Dependency, region: str, limit: int) -> list[Title]:
    return await _fetch_titles(catalog, "/popular", {"region": region, "limit": str(limit)})


async def fetch_genre(catalog: Dependency, genre: str, limit: int) -> list[Title]:
    return await _fetch_titles(catalog, "/titles", {"genre": genre, "limit": str(limit)})


async def _fetch_titles(catalog: Dependency, path: str, params: Mapping[str, str]) -> list[Title]:
    try:
        response = await catalog.get(path, params=params)
    except DependencyError as exc:
        raise SourceUnavailable(str(exc)) from exc
    if response.status != 200:
        raise SourceUnavailable(f"catalog {path} answered HTTP {response.status}")
    try:
        return parse_titles(response.data)
    except ValueError as exc:
        raise SourceUnavailable(f"catalog {path} answered an unusable list: {exc}") from exc


def parse_titles(data: object) -> list[Title]:
    """A catalog list: ``{"titles": [...]}`` (or a bare list); ValueError if malformed."""
    items = data.get("titles") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise ValueError("titles: expected a list")
    return [Title.from_json(item) for item in items]
