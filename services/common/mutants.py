"""Named regressions the services can be started with, to prove the suite catches them.

``CHAOSBED_MUTANT=<name>`` switches one on for a whole service process (every
service of a stack gets the same variable; each acts only where its code
has the branch). Never on by default; an unknown name is refused at start
naming the known ones; a switched-on mutant is logged at WARNING when the
app is built. Each is a real code path: a branch at the place the mechanism
lives (``if mutants.active("no-retries"): ...``), never a metric faked.

`MUTANTS` is the one home of the names: what each breaks and the mechanism
it breaks. An experiment's ``covers: [mechanism, ...]`` names these
mechanisms, and ``chaosbed mutate`` runs, for each mutant, the experiments
that cover its mechanism (docs/mutants.md).

The switch is process-wide: `switch_on` is called once, when a service app is
built from its settings (`ServiceSettings.mutant`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ENV_VARIABLE",
    "MECHANISMS",
    "MUTANTS",
    "Mutant",
    "UnknownMutant",
    "active",
    "parse_mutant",
    "switch_on",
    "switched_on",
]

log = logging.getLogger(__name__)

ENV_VARIABLE = "CHAOSBED_MUTANT"


@dataclass(frozen=True)
class Mutant:
    name: str
    mechanism: str
    """What it breaks, as an experiment's ``covers:`` names it."""
    breaks: str
    """One sentence: the regression, as a reviewer would describe the bad change."""
    services: tuple[str, ...]
    """Where its branch lives (the kit's mutants act in every service with dependencies)."""


_KIT = ("recommendations", "playback", "profiles")

_ALL = (
    Mutant("no-retries", "retries", "the kit never retries a failed try", _KIT),
    Mutant(
        "retry-non-idempotent",
        "idempotent-retries",
        "the kit retries requests the caller marked non-idempotent (a POST with no "
        "Idempotency-Key is sent again)",
        _KIT,
    ),
    Mutant(
        "breaker-never-opens",
        "breaker",
        "the circuit breaker records failures but never opens",
        _KIT,
    ),
    Mutant(
        "no-per-try-timeout",
        "per-try-timeout",
        "a try has no timeout of its own: a hung call waits out the request's whole deadline",
        _KIT,
    ),
    Mutant(
        "no-retry-budget",
        "retry-budget",
        "the retry budget is removed: every failed try is retried up to the attempt limit",
        _KIT,
    ),
    Mutant(
        "no-default-preferences",
        "fallback-default-preferences",
        "recommendations answers 503 instead of ranking with default preferences "
        "when profiles is unavailable",
        ("recommendations",),
    ),
    Mutant(
        "no-cached-popular",
        "fallback-cached-popular",
        "recommendations never serves its cached popular list when catalog is unavailable",
        ("recommendations",),
    ),
    Mutant(
        "no-cached-profile",
        "fallback-cached-profile",
        "playback never uses a member's cached profile when profiles is unavailable",
        ("playback",),
    ),
    Mutant(
        "deadline-not-forwarded",
        "deadline-propagation",
        "outgoing calls no longer carry X-Deadline-Ms: a dependency works to its own "
        "default deadline, long after the caller gave up",
        _KIT,
    ),
    Mutant(
        "no-bulkhead",
        "bulkhead",
        "the bulkhead is removed: any number of calls to a dependency wait at once",
        _KIT,
    ),
    Mutant(
        "ack-before-commit",
        "durable-acks",
        "profiles acknowledges a write with the version it is about to commit, and commits "
        "it later (a kill in between loses an acknowledged write)",
        ("profiles",),
    ),
    Mutant(
        "field-per-txn",
        "atomic-writes",
        "profiles commits a multi-field write one field per transaction",
        ("profiles",),
    ),
    Mutant(
        "stale-replica-reads",
        "monotonic-reads",
        "a profiles replica behind a read's min_version answers with the older version "
        "instead of 503",
        ("profiles",),
    ),
    Mutant(
        "digest-not-checked",
        "content-digest",
        "a service no longer checks the Content-Digest of a body it receives: a request or "
        "an answer corrupted on the way is read as if it had been sent so",
        _KIT,
    ),
    Mutant(
        "partial-sync-tv",
        "whole-syncs",
        "a new sync algorithm for device type tv (X-Chaosbed-Device-Type: tv) applies the "
        "first field of a multi-field sync and drops the rest",
        ("profiles",),
    ),
)

#: Every mutant by name; the closed set `CHAOSBED_MUTANT` accepts.
MUTANTS: Mapping[str, Mutant] = MappingProxyType({m.name: m for m in _ALL})
#: Every mechanism a mutant breaks; the closed set an experiment's `covers:` accepts.
MECHANISMS: tuple[str, ...] = tuple(m.mechanism for m in _ALL)

_active: str | None = None


class UnknownMutant(ValueError):
    """A mutant name that is not in `MUTANTS`."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{ENV_VARIABLE}={name!r} is not a known mutant; known: {', '.join(MUTANTS)}"
        )


def parse_mutant(raw: str | None) -> str | None:
    """The mutant `raw` names, None for unset or empty; `UnknownMutant` otherwise."""
    name = (raw or "").strip()
    if not name:
        return None
    if name not in MUTANTS:
        raise UnknownMutant(name)
    return name


def switch_on(name: str | None, service: str = "") -> None:
    """Make `name` the process's mutant (None: none); logged loudly when one is on."""
    global _active
    if name is not None and name not in MUTANTS:
        raise UnknownMutant(name)
    _active = name
    if name is not None:
        mutant = MUTANTS[name]
        log.warning(
            "!!! MUTANT %s IS ON in %s: %s (a deliberate regression; never in production)",
            name,
            service or "this process",
            mutant.breaks,
        )


def active(name: str) -> bool:
    """True when the process was started with mutant `name` (a typo is an error, not False)."""
    if name not in MUTANTS:
        raise UnknownMutant(name)
    return _active == name


def switched_on() -> str | None:
    """The process's mutant, None when none is on."""
    return _active
