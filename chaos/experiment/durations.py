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


def _trim(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def format_duration(seconds: float) -> str:
    """The shortest spelling, to the microsecond: `500ms`, `20s`, `2m`, `1m30s`, `1.5s`."""
    if 0 < seconds < 1:
        return f"{_trim(seconds * 1000)}ms"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    if minutes:
        parts.append(f"{minutes}m")
    remainder = secs + (seconds - whole)
    if remainder or not parts:
        parts.append(f"{_trim(remainder)}s")
    return "".join(parts)
