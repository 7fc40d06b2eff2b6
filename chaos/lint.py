"""`chaosbed lint`: the resilience settings checked along every call path, before anything starts.

Each service reads its settings from the environment it starts with; lint
reads them from this one, the same way (each service's own settings
classes), and walks every member journey's call paths:

    homepage     recommendations -> profiles, recommendations -> catalog
    play         playback -> catalog, playback -> profiles (the profile read,
                 and the play record: one try, forwarded by profiles to the
                 member's home replica, one try)
    preferences  profiles -> the member's home replica (a keyed write, which
    sync         the home commits, then pushes to a peer for its quorum)
    title        catalog answers alone

A hop's budget is the deadline its caller has: the service's own default
(CHAOSBED_DEFAULT_DEADLINE_MS) at the hop a member's request enters, else
what the hop above sends it with its first try. On each hop, with the kit's
own arithmetic (services/common/timeouts.py):

- **timeout**: the per-try timeout is longer than the budget, so it is never
  waited in full;
- **retries**: with the budget, some of the configured tries cannot run (a
  try's share is under the judging floor: the tries before it take all);
- **fallback**: playback's breaker stays open longer than the cached entry
  that stands in for the dependency lives;
- **amplification**: a retried call sits under another retried call (a
  hang at the bottom can be tried the product of their attempts times).

At the hop a member's request enters, and for every fallback, a finding is
an **error** (exit 1); deeper, where the kit fits each try into the budget
it was sent, timeout and retries findings are **warnings**, as is
amplification: the numbers say what a hang there meets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common.settings import DependencySettings, ServiceSettings
from services.common.timeouts import (
    judging_floor_s,
    margin_s,
    max_wait_s,
    retry_fits,
    try_timeout,
)
from services.playback.settings import PlaybackSettings
from services.profiles.settings import ProfilesSettings
from services.recommendations.settings import RecommendationsSettings
from services.topology import PORTS, PROFILES_REPLICAS

__all__ = ["Finding", "lint"]


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"
    check: str  # timeout, retries, fallback, amplification
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.check}: {self.path}: {self.message}"


@dataclass(frozen=True)
class Hop:
    caller: str
    settings: DependencySettings
    tries: int
    what: str

    @property
    def name(self) -> str:
        return f"{self.caller} -> {self.settings.name} ({self.what})"


def _tries_that_fit(hop: Hop, budget_s: float) -> tuple[int, list[float]]:
    """How many of the hop's tries run within `budget_s` if each times out, and their timers."""
    remaining = budget_s
    timers = []
    for attempt in range(1, hop.tries + 1):
        timer = try_timeout(hop.settings, remaining, attempt, hop.tries, budget_s)
        if not timer.judges or timer.sent_s <= 0:
            break
        timers.append(timer.seconds)
        remaining -= timer.seconds
        if attempt < hop.tries:
            remaining -= max_wait_s(hop.settings, attempt)
            if not retry_fits(hop.settings, remaining, 0, budget_s):
                break
    return len(timers), timers


def _check_hop(hop: Hop, budget_s: float, path: str, *, entry: bool) -> list[Finding]:
    severity = "error" if entry else "warning"
    found = []
    settings = hop.settings
    if settings.timeout_s > budget_s - margin_s(budget_s):
        found.append(
            Finding(
                severity,
                "timeout",
                path,
                f"{hop.name}: the per-try timeout {settings.timeout_s:g} s is longer than the"
                f" {budget_s:g} s budget {hop.caller} has here: it is never waited in full (a"
                " hang is cut by the deadline, its retries squeezed)",
            )
        )
    ran, timers = _tries_that_fit(hop, budget_s)
    if ran < hop.tries:
        each = ", ".join(f"{t:.3f}" for t in timers) or "none"
        found.append(
            Finding(
                severity,
                "retries",
                path,
                f"{hop.name}: {hop.tries} tries are configured, but within the {budget_s:g} s"
                f" budget only {ran} can run when each times out (timers {each} s; the judging"
                f" floor is {judging_floor_s(settings):g} s): fewer attempts, a shorter per-try"
                " timeout or a longer deadline",
            )
        )
    return found


def _first_sent(hop: Hop, budget_s: float) -> float:
    """The budget the hop's first try sends its callee."""
    return try_timeout(hop.settings, budget_s, 1, hop.tries).sent_s


def _path(*hops: Hop) -> str:
    return " -> ".join([hops[0].caller, *(hop.settings.name for hop in hops)])


def lint(env: Mapping[str, str]) -> list[Finding]:
    """Every finding for the stack these environment variables would start."""
    found: list[Finding] = []
    recommendations = RecommendationsSettings.from_env(env)
    playback = PlaybackSettings.from_env(env)
    member_budget = {
        name: ServiceSettings.from_env(name, port, env).default_deadline_ms / 1000
        for name, port in PORTS.items()
    }

    def walk(*hops: Hop, budget_s: float) -> None:
        """Check each hop of a path, each with the budget the one above sends it."""
        for depth, hop in enumerate(hops):
            found.extend(_check_hop(hop, budget_s, _path(*hops[: depth + 1]), entry=depth == 0))
            budget_s = _first_sent(hop, budget_s)
        retried = [hop for hop in hops if hop.tries > 1]
        if len(retried) > 1:
            product = 1
            for hop in retried:
                product *= hop.tries
            found.append(
                Finding(
                    "warning",
                    "amplification",
                    _path(*hops),
                    f"retried calls nest ({', '.join(h.name for h in retried)}): a hang at the"
                    f" bottom can be tried up to {product} times per member request",
                )
            )

    for service, settings in (("recommendations", recommendations), ("playback", playback)):
        for dependency in (settings.profiles, settings.catalog):
            hop = Hop(service, dependency, dependency.attempts, "GET")
            walk(hop, budget_s=member_budget[service])
    # the play record: one try (an append is not idempotent), forwarded to the home, one try
    us = ProfilesSettings.from_env({**env, "CHAOSBED_PROFILES_REGION": "us"})
    for peer in us.peers:
        walk(
            Hop("playback", playback.profiles, 1, "POST plays"),
            Hop("profiles", peer, 1, "POST plays, forwarded"),
            budget_s=member_budget["playback"],
        )
    # a write entering profiles (us) for a member homed elsewhere: forwarded (keyed,
    # retried), then the home pushes it to a peer for its quorum (retried)
    for region, home in PROFILES_REPLICAS.items():
        if home == "profiles":
            continue
        forward = next(p for p in us.peers if p.name == home)
        at_home = ProfilesSettings.from_env({**env, "CHAOSBED_PROFILES_REGION": region})
        for push in at_home.peers:
            walk(
                Hop("profiles", forward, forward.attempts, "PATCH, forwarded to the home"),
                Hop(home, push, push.attempts, "quorum push"),
                budget_s=member_budget["profiles"],
            )
    found += _fallbacks(playback)
    return found


def _fallbacks(playback: PlaybackSettings) -> list[Finding]:
    """Playback's breakers must close before the cached entries standing in for them expire."""
    found = []
    for dependency, ttl_s, cache in (
        (playback.profiles, playback.profile_cache_ttl_s, "cached profile"),
        (playback.catalog, playback.title_cache_ttl_s, "cached title"),
    ):
        if dependency.breaker_reset_s > ttl_s:
            found.append(
                Finding(
                    "error",
                    "fallback",
                    f"playback -> {dependency.name}",
                    f"the breaker stays open {dependency.breaker_reset_s:g} s at a time, longer"
                    f" than a {cache} lives ({ttl_s:g} s): while it is open the fallback runs"
                    " dry, and members fail though the dependency may be back",
                )
            )
    return found
