"""What a load run is asked to do, checked against the bounds before it starts.

`LoadSpec` (from the experiment model) says what traffic to drive; a
`LoadConfig` adds how long, where the services are, and the generator's own
limits. Every value is checked at construction; a bad one raises
`InvalidLoad` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from chaos.experiment.model import JOURNEYS, LoadSpec
from chaos.load.errors import InvalidLoad

__all__ = [
    "DEFAULT_CATALOG_SIZE",
    "MAX_DURATION_S",
    "MAX_IN_FLIGHT",
    "MAX_RATE",
    "LoadConfig",
    "Targets",
    "check_spec",
]

MAX_RATE = 1000.0  # requests per second
MAX_DURATION_S = 6 * 3600.0
MAX_MEMBERS = 1_000_000
MAX_TIMEOUT_S = 60.0
MAX_IN_FLIGHT = 10_000
MAX_CATALOG_SIZE = 1_000_000
DEFAULT_CATALOG_SIZE = 5_000  # the catalog service's default size


@dataclass(frozen=True)
class Targets:
    """Base URL of each service a journey enters at."""

    catalog: str = "http://127.0.0.1:8081"
    recommendations: str = "http://127.0.0.1:8082"
    playback: str = "http://127.0.0.1:8083"
    profiles: str = "http://127.0.0.1:8084"

    def __post_init__(self) -> None:
        for name in ("catalog", "recommendations", "playback", "profiles"):
            url = getattr(self, name)
            if not url.startswith(("http://", "https://")):
                raise InvalidLoad(f"{name}_url", f"must be an http:// or https:// URL, not {url!r}")
            object.__setattr__(self, name, url.rstrip("/"))

    def url(self, service: str) -> str:
        return str(getattr(self, service))


def _finite_between(name: str, value: float, low: float, high: float, *, open_low: bool) -> None:
    bad = not isinstance(value, int | float) or not math.isfinite(value)
    bad = bad or (value <= low if open_low else value < low) or value > high
    if bad:
        opening = "above" if open_low else "at least"
        raise InvalidLoad(
            name, f"must be a number {opening} {low:g} and at most {high:g}, not {value!r}"
        )


def _int_between(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidLoad(name, f"must be a whole number from {low} to {high}, not {value!r}")


def check_spec(spec: LoadSpec) -> None:
    """Raise InvalidLoad (naming the field) unless every value of `spec` is within bounds."""
    _finite_between("rate", spec.rate, 0.0, MAX_RATE, open_low=True)
    if not spec.mix:
        raise InvalidLoad("mix", f"needs at least one journey of {', '.join(JOURNEYS)}")
    for journey, weight in spec.mix.items():
        if journey not in JOURNEYS:
            raise InvalidLoad("mix", f"unknown journey {journey!r} (known: {', '.join(JOURNEYS)})")
        _finite_between(f"mix.{journey}", weight, 0.0, 1e9, open_low=False)
    if sum(spec.mix.values()) <= 0:
        raise InvalidLoad("mix", "the weights add up to zero: give some journey a positive weight")
    _finite_between("experiment_percent", spec.experiment_percent, 0.0, 100.0, open_low=False)
    if spec.control_percent is not None:
        room = 100.0 - spec.experiment_percent
        _finite_between("control_percent", spec.control_percent, 0.0, room, open_low=False)
    _int_between("members", spec.members, 1, MAX_MEMBERS)
    _finite_between("timeout", spec.timeout, 0.0, MAX_TIMEOUT_S, open_low=True)
    if spec.seed is not None:
        _int_between("seed", spec.seed, 0, 2**63 - 1)


@dataclass(frozen=True)
class LoadConfig:
    """A whole load run: the traffic, its duration, where it goes, and the generator's limits."""

    spec: LoadSpec
    duration: float
    targets: Targets = field(default_factory=Targets)
    catalog_size: int = DEFAULT_CATALOG_SIZE
    """Titles are drawn from 1..catalog_size (an id beyond the catalog gets a correct 404)."""
    max_in_flight: int = 512
    """Requests awaiting answers at most; an arrival beyond it fails as `client_overloaded`."""
    late_after: float = 0.010
    """An arrival sent more than this many seconds after its scheduled time counts as late."""
    connection_per_request: bool = False
    """Each request on a connection of its own, closed after its answer. For targets
    whose address balances connections over several instances (a Kubernetes
    Service): one client's pooled connections would pin its traffic to the
    instances they first reached, where many members' devices spread over all."""

    def __post_init__(self) -> None:
        check_spec(self.spec)
        _finite_between("duration", self.duration, 0.0, MAX_DURATION_S, open_low=True)
        _int_between("catalog_size", self.catalog_size, 1, MAX_CATALOG_SIZE)
        _int_between("max_in_flight", self.max_in_flight, 1, MAX_IN_FLIGHT)
        _finite_between("late_after", self.late_after, 0.0, 60.0, open_low=True)
