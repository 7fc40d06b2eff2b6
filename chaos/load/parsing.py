"""Read load options written by people: a journey mix and a duration."""

from __future__ import annotations

import math

from chaos.experiment.model import JOURNEYS
from chaos.load.errors import InvalidLoad

__all__ = ["DEFAULT_MIX", "parse_duration", "parse_mix"]

DEFAULT_MIX = "homepage=60,play=25,title=10,preferences=5"
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_mix(text: str) -> dict[str, float]:
    """`homepage=60,play=25` -> {"homepage": 60.0, "play": 25.0}; journeys not named get 0."""
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, sep, raw = part.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name or not raw:
            raise InvalidLoad("mix", f"{part.strip()!r} is not JOURNEY=WEIGHT (e.g. {DEFAULT_MIX})")
        if name not in JOURNEYS:
            raise InvalidLoad("mix", f"unknown journey {name!r} (known: {', '.join(JOURNEYS)})")
        if name in mix:
            raise InvalidLoad("mix", f"journey {name!r} is given twice")
        try:
            weight = float(raw)
        except ValueError:
            raise InvalidLoad("mix", f"weight of {name} is not a number: {raw!r}") from None
        if not math.isfinite(weight) or weight < 0:
            raise InvalidLoad("mix", f"weight of {name} must be a finite number >= 0, not {raw!r}")
        mix[name] = weight
    if sum(mix.values()) <= 0:
        raise InvalidLoad("mix", "the weights add up to zero: give some journey a positive weight")
    return mix


def parse_duration(text: str, field: str = "duration") -> float:
    """Seconds from `90`, `90s`, `1.5m`, `2h` or `500ms`."""
    raw = text.strip().lower()
    for unit in ("ms", "s", "m", "h"):
        if raw.endswith(unit):
            number, factor = raw[: -len(unit)], _UNITS[unit]
            break
    else:
        number, factor = raw, 1.0
    try:
        value = float(number) * factor
    except ValueError:
        raise InvalidLoad(field, f"{text!r} is not a duration such as 30, 30s, 5m or 1h") from None
    if not math.isfinite(value) or value <= 0:
        raise InvalidLoad(field, f"must be a positive duration, not {text!r}")
    return value
