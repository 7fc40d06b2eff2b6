"""Which cohort a member is in: a stable hash of the member id.

The hash is SHA-256 (not Python's `hash()`, which is salted per process), so
a member is in the same cohort in every run and every process. A member is in
`experiment` when `sha256(id) mod 10000 < experiment_percent * 100`: raising
the percentage only ever adds members to the experiment cohort.
"""

from __future__ import annotations

import hashlib

__all__ = ["COHORTS", "cohort_of", "member_slot"]

COHORTS: tuple[str, ...] = ("experiment", "control")
SLOTS = 10_000


def member_slot(member: str) -> int:
    """The member's place in [0, 10000), the same in every process."""
    digest = hashlib.sha256(member.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % SLOTS


def cohort_of(member: str, experiment_percent: float) -> str:
    """`experiment` for `experiment_percent` of members (0..100), `control` for the rest."""
    return "experiment" if member_slot(member) < experiment_percent * 100 else "control"
