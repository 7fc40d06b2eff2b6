"""What a member does: the four journeys, drawn by weight, as ready-to-send requests.

    homepage     GET   {recommendations}/recommendations/{member}
    play         POST  {playback}/playback/start   {"member": ..., "title": ...}
    title        GET   {catalog}/titles/{id}
    preferences  PATCH {profiles}/profiles/{member}  one preference changed,
                       with a fresh Idempotency-Key

Each member has a device type (tv, mobile, web: `services.vocabulary.devices`, by a
stable hash of the member id), sent with each of its requests.

Members are `m-0` .. `m-{members-1}`, titles 1 .. catalog_size, both drawn
uniformly from the injected random source, so a seed repeats the same
sequence of journeys, members and titles. Request ids and idempotency keys
are unique per request (not seeded): a repeated run must not replay writes.
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, replace
from typing import Any

from chaos.experiment.model import JOURNEY_SERVICE, JOURNEYS
from chaos.load.cohort import cohort_of
from chaos.load.config import LoadConfig
from services.vocabulary import GENRES, MATURITY_RATINGS
from services.vocabulary.devices import device_type_of

__all__ = ["JourneyPlanner", "PlannedRequest"]

LANGUAGES = ("en", "es", "fr", "de", "pt-BR", "ja", "hi", "ko")


@dataclass(frozen=True)
class PlannedRequest:
    journey: str
    service: str
    member: str
    cohort: str
    method: str
    url: str
    body: dict[str, Any] | None = None
    idempotency_key: str | None = None
    device_type: str = ""
    """The member's device type (`services.vocabulary.devices`), sent in its header."""


class JourneyPlanner:
    """Draws the next member request according to the mix."""

    def __init__(self, config: LoadConfig, rng: random.Random) -> None:
        spec = config.spec
        self._rng = rng
        self._config = config
        self._journeys = [j for j in JOURNEYS if spec.mix.get(j, 0) > 0]
        self._cumulative = list(itertools.accumulate(spec.mix[j] for j in self._journeys))

    def next(self) -> PlannedRequest:
        planned = self._next()
        return replace(planned, device_type=device_type_of(planned.member))

    def _next(self) -> PlannedRequest:
        rng, config = self._rng, self._config
        journey = rng.choices(self._journeys, cum_weights=self._cumulative)[0]
        member = f"m-{rng.randrange(config.spec.members)}"
        service = JOURNEY_SERVICE[journey]
        base = config.targets.url(service)
        cohort = cohort_of(member, config.spec.experiment_percent, config.spec.control_percent)
        if journey == "homepage":
            return PlannedRequest(
                journey, service, member, cohort, "GET", f"{base}/recommendations/{member}"
            )
        if journey == "title":
            title = rng.randint(1, config.catalog_size)
            return PlannedRequest(journey, service, member, cohort, "GET", f"{base}/titles/{title}")
        if journey == "play":
            body = {"member": member, "title": rng.randint(1, config.catalog_size)}
            return PlannedRequest(
                journey, service, member, cohort, "POST", f"{base}/playback/start", body
            )
        return PlannedRequest(
            journey,
            service,
            member,
            cohort,
            "PATCH",
            f"{base}/profiles/{member}",
            self._preference_change(),
            uuid.uuid4().hex,
        )

    def _preference_change(self) -> dict[str, Any]:
        """One valid change of one preference, as the profiles service accepts it."""
        rng = self._rng
        field = rng.choice(("subtitles", "autoplay", "languages", "favourite_genres", "maturity"))
        if field in ("subtitles", "autoplay"):
            return {field: rng.random() < 0.5}
        if field == "languages":
            return {"languages": rng.sample(LANGUAGES, rng.randint(1, 3))}
        if field == "favourite_genres":
            return {"favourite_genres": rng.sample(GENRES, rng.randint(0, 3))}
        return {"maturity_level": rng.choice(MATURITY_RATINGS)}
