"""Which cohort a member is in: a stable hash of the member id.

The hash is SHA-256 (not Python's `hash()`, which is salted per process), so
a member is in the same cohort in every run and every process. A member's
slot is `sha256(id) mod 10000`; it is in `experiment` when its slot is under
`experiment_percent * 100`, in `control` when under `(experiment_percent +
control_percent) * 100`, and in no cohort (`none`, untouched by a cohort's
faults and left out of a comparison) otherwise. Without a `control_percent`
every member outside the experiment cohort is in control. Raising the
experiment percentage only ever adds members to the experiment cohort.
"""

from __future__ import annotations

import hashlib

__all__ = ["COHORTS", "cohort_of", "member_slot"]

COHORTS: tuple[str, ...] = ("experiment", "control", "none")
SLOTS = 10_000


def member_slot(member: str) -> int:
    """The member's place in [0, 10000), the same in every process."""
    digest = hashlib.sha256(member.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % SLOTS


def cohort_of(member: str, experiment_percent: float, control_percent: float | None = None) -> str:
    """`experiment` for `experiment_percent` of members (0..100), `control` for the
    next `control_percent` (default: every other member), `none` for the rest."""
    slot = member_slot(member)
    if slot < experiment_percent * 100:
        return "experiment"
    if control_percent is None or slot < (experiment_percent + control_percent) * 100:
        return "control"
    return "none"
