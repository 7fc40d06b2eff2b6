"""Whether a start may go ahead: region first, then maturity. Pure.

`maturity_level` is None when no profile could be read and none was cached:
then only all-ages titles ("all") may start. Anything else is refused with
503 (outcome ``failed``): the refusal is our outage, not the member's
setting, so it counts against playback's availability.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.vocabulary import MATURITY_RATINGS, Title, maturity_allows

ALL_AGES = MATURITY_RATINGS[0]


@dataclass(frozen=True)
class Decision:
    outcome: str  # "started", "denied" or "failed": the starts counter's label
    status: int
    reason: str | None = None  # "region", "maturity", "profile_unavailable"
    message: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome == "started"


ALLOWED = Decision("started", 200)


def decide(title: Title, region: str, maturity_level: str | None) -> Decision:
    if not title.available_in(region):
        return Decision("denied", 403, "region", f"title {title.id} is not available in {region}")
    if maturity_level is None:
        if title.maturity_rating == ALL_AGES:
            return ALLOWED
        return Decision(
            "failed",
            503,
            "profile_unavailable",
            "the member's profile is unavailable, so only all-ages titles can start; "
            f"title {title.id} is rated {title.maturity_rating}",
        )
    if not maturity_allows(maturity_level, title.maturity_rating):
        return Decision(
            "denied",
            403,
            "maturity",
            f"title {title.id} is rated {title.maturity_rating}, above the profile's "
            f"maturity level {maturity_level}",
        )
    return ALLOWED
