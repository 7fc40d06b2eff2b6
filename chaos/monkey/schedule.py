"""When the monkey acts, on whom and with what: pure functions of a seeded
random generator, a clock and the stack's state, so a run can be replayed
from its seed and every choice explained.

- A `Window` is when actions may start: `always`, or days of the week and a
  time of day range in a named time zone (`mon-fri 09:00-17:00
  Europe/London`). An action never starts outside it.
- Waits between actions are exponential around `mean_s` (a Poisson process,
  as Chaos Monkey's "random time during the day"), at least `min_s`.
- A victim is drawn uniformly among the services that opt in and are
  healthy now; a fault from the menu by weight among the kinds that victim
  can take (a partition only where the runtime drives the network).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Action",
    "Choice",
    "Menu",
    "MenuItem",
    "Schedule",
    "Window",
    "menu_item",
    "opted_in",
    "parse_window",
]

#: What an application fault of the monkey's is: on the experiment cohort only (the
#: members whose ids hash there), so its blast radius is that cohort's share.
APP_PARAMS: Mapping[str, Mapping[str, object]] = {
    "latency": {"cohort": "experiment", "delay_ms": 300.0},
    "error": {"cohort": "experiment", "status": 503},
    "corrupt": {"cohort": "experiment", "message": "response"},
}


def menu_item(kind: str, weight: float, hold_s: float) -> MenuItem:
    """A menu item of `kind` with the monkey's parameters for it."""
    return MenuItem(kind, weight, hold_s, dict(APP_PARAMS.get(kind, {})))


def opted_in(names: Sequence[str]) -> tuple[str, ...]:
    """The services among `names` that the topology lets a monkey choose."""
    from services.topology import SERVICES

    return tuple(n for n in names if n in SERVICES and SERVICES[n].monkey)


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAYS = re.compile(r"^[a-z]{3}(-[a-z]{3})?(,[a-z]{3}(-[a-z]{3})?)*$")
_RANGE = re.compile(r"^(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})$")


@dataclass(frozen=True)
class Window:
    """Days of the week (0 = Monday) and [start, end) in `zone`; `always` when days is
    every day and the range the whole day."""

    days: frozenset[int] = frozenset(range(7))
    start: time = time(0, 0)
    end: time | None = None  # None: to the end of the day
    zone: str = "UTC"

    @property
    def always(self) -> bool:
        return len(self.days) == 7 and self.start == time(0, 0) and self.end is None

    def open_at(self, wall: float) -> bool:
        """Whether an action may start at the wall-clock time `wall` (seconds since the epoch)."""
        if self.always:
            return True
        local = datetime.fromtimestamp(wall, ZoneInfo(self.zone))
        if local.weekday() not in self.days:
            return False
        now = local.time()
        return self.start <= now and (self.end is None or now < self.end)

    def describe(self) -> str:
        if self.always:
            return "always"
        days = ",".join(DAYS[d] for d in sorted(self.days))
        end = "24:00" if self.end is None else self.end.strftime("%H:%M")
        return f"{days} {self.start.strftime('%H:%M')}-{end} {self.zone}"


def _day_range(text: str) -> set[int]:
    if "-" not in text:
        return {DAYS.index(text)}
    first, last = (DAYS.index(part) for part in text.split("-"))
    if last < first:
        raise ValueError(f"the days {text!r} run backwards")
    return set(range(first, last + 1))


def parse_window(text: str) -> Window:
    """`always`, or `mon-fri 09:00-17:00 Europe/London` (days as ranges or lists, a
    24-hour range that does not wrap midnight, an IANA time zone); ValueError says
    what is wrong."""
    parts = text.split()
    if [p.lower() for p in parts] == ["always"]:
        return Window()
    found = None if len(parts) != 3 else _RANGE.match(parts[1])
    if found is None or not _DAYS.match(parts[0].lower()):
        raise ValueError(
            f"a window is 'always' or like 'mon-fri 09:00-17:00 Europe/London', not {text!r}"
        )
    days: set[int] = set()
    for part in parts[0].lower().split(","):
        unknown = [b for b in part.split("-") if b not in DAYS]
        if unknown:
            raise ValueError(f"unknown day {unknown[0]!r}: one of {', '.join(DAYS)}")
        days |= _day_range(part)
    start, end = (_clock(found[k]) for k in ("start", "end"))
    if end is not None and (start or time(0, 0)) >= end:
        raise ValueError(
            f"the window {parts[1]} does not move forward (one that spans midnight is two windows)"
        )
    try:
        ZoneInfo(parts[2])
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {parts[2]!r}") from error
    return Window(frozenset(days), start or time(0, 0), end, parts[2])


def _clock(text: str) -> time | None:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24 and minutes == 0:
        return None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"{text!r} is not a time of day (00:00 to 24:00)")
    return time(hours, minutes)


@dataclass(frozen=True)
class MenuItem:
    """A kind of fault the monkey may choose, how often (weight) and for how long."""

    kind: str  # kill, pause, restart, latency, error, partition
    weight: float
    duration_s: float
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Menu:
    items: tuple[MenuItem, ...]

    def __post_init__(self) -> None:
        if not self.items or any(i.weight < 0 for i in self.items):
            raise ValueError("a menu needs at least one fault, every weight 0 or more")
        if sum(i.weight for i in self.items) <= 0:
            raise ValueError("the menu's weights add up to zero: nothing could be chosen")


@dataclass(frozen=True)
class Choice:
    """What the generator drew, with the candidates it drew from (for the journal)."""

    victim: str
    fault: MenuItem
    candidates: tuple[str, ...]
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    """A chosen action with when it starts (wall clock)."""

    at: float
    choice: Choice


class Schedule:
    def __init__(self, seed: int, mean_s: float, *, min_s: float = 1.0) -> None:
        if mean_s <= 0 or min_s < 0:
            raise ValueError("the mean time between actions must be above 0, the minimum 0 or more")
        self.seed = seed
        self.mean_s = mean_s
        self.min_s = min_s
        self._rng = random.Random(seed)

    def wait(self) -> float:
        """Seconds until the next action: exponential around the mean, at least min_s."""
        return max(self.min_s, self._rng.expovariate(1.0 / self.mean_s))

    def choose(
        self,
        opted_in: Sequence[str],
        healthy: Mapping[str, bool],
        menu: Menu,
        *,
        takes: Mapping[str, frozenset[str]],
    ) -> Choice | None:
        """A victim among the opted-in services healthy now (sorted, so a seed gives
        the same draw), and a fault by weight among the kinds it takes; None when no
        service can be chosen (every one unhealthy, or none takes any kind)."""
        candidates = tuple(
            s for s in sorted(opted_in) if healthy.get(s, False) and takes.get(s, frozenset())
        )
        if not candidates:
            return None
        victim = candidates[self._rng.randrange(len(candidates))]
        items = [i for i in menu.items if i.kind in takes[victim] and i.weight > 0]
        if not items:
            return None
        fault = self._rng.choices(items, weights=[i.weight for i in items])[0]
        return Choice(victim, fault, candidates, tuple(i.kind for i in items))
