"""Durations as experiments write them: `500ms`, `20s`, `2m`, `1h`, `1m30s`."""

from __future__ import annotations

import math
import re

__all__ = ["format_duration", "parse_duration"]

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)\s*")


def parse_duration(text: str) -> float | None:
    """Seconds in `text` (one or more number+unit parts), or None when it is not a duration."""
    text = text.strip()
    if not text:
        return None
    total, position = 0.0, 0
    while position < len(text):
        part = _PART.match(text, position)
        if part is None:
            return None
        total += float(part[1]) * UNITS[part[2]]
        position = part.end()
    return total if math.isfinite(total) else None


def format_duration(seconds: float) -> str:
    """The shortest exact spelling: `500ms`, `20s`, `2m`, `1m30s`, `1.5s`."""
    if seconds < 1 and seconds != 0:
        millis = seconds * 1000
        return f"{millis:g}ms"
    if seconds >= 60 and seconds == int(seconds):
        whole = int(seconds)
        hours, rest = divmod(whole, 3600)
        minutes, secs = divmod(rest, 60)
        parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
        return "".join(f"{value}{unit}" for value, unit in parts if value)
    return f"{seconds:g}s"
