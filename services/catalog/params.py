"""Parse request parameters; each failure is an `InvalidField` naming the parameter."""

from __future__ import annotations

import re

from services.common import InvalidField

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_INTEGER = re.compile(r"-?[0-9]{1,100}")


def parse_title_id(raw: str) -> int:
    """A title id: a decimal integer (whether such a title exists is for the caller)."""
    if not _INTEGER.fullmatch(raw):
        raise InvalidField("id", f"must be an integer, got {raw!r}")
    return int(raw)


def parse_limit(raw: str | None, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """How many results to return: 1 or more; above `maximum` it is capped at `maximum`."""
    if raw is None or raw == "":
        return default
    if not _INTEGER.fullmatch(raw):
        raise InvalidField("limit", f"must be an integer, got {raw!r}")
    value = int(raw)
    if value < 1:
        raise InvalidField("limit", f"must be at least 1, got {value}")
    return min(value, maximum)


def parse_choice(field: str, raw: str | None, choices: tuple[str, ...]) -> str | None:
    """One of `choices`, or None when the parameter is absent or empty."""
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise InvalidField(field, f"{raw!r} is not one of {', '.join(choices)}")
    return raw
