"""Which kind of device a member (or a history device) uses: a stable hash of its id.

Shared by the member load and the history workload (which send it) and by
profiles (which reads it), so it lives in the vocabulary.

Members watch on a TV, a phone or tablet, or a web browser, in these shares:

    tv      40 %
    mobile  40 %
    web     20 %

`DEVICE_SHARES` is the one home of those shares. The type is
`sha256("device-type:" + id) mod 10000` against the cumulative shares, so an
id has the same type in every run and every process, and (the prefix makes
the hash differ from the cohort's) a device type says nothing of the cohort.

Every member request of the load, and every write, sync and read of the
history workload, carries the type in `DEVICE_TYPE_HEADER`, so a service can
act on one kind of device (the profiles sync regression does, on TVs) and
findings can be attributed to it.
"""

from __future__ import annotations

import hashlib
import itertools

__all__ = [
    "DEVICE_SHARES",
    "DEVICE_TYPES",
    "DEVICE_TYPE_HEADER",
    "UNKNOWN_DEVICE_TYPE",
    "device_type_of",
]

DEVICE_TYPE_HEADER = "X-Chaosbed-Device-Type"
DEVICE_SHARES: dict[str, int] = {"tv": 40, "mobile": 40, "web": 20}
"""Percent of members (and of history devices) on each type of device; they add up to 100."""
DEVICE_TYPES: tuple[str, ...] = tuple(DEVICE_SHARES)
UNKNOWN_DEVICE_TYPE = "unknown"
"""The type of an operation recorded before device types were (an old history file)."""

_SLOTS = 10_000
_CUMULATIVE = itertools.accumulate(s * _SLOTS // 100 for s in DEVICE_SHARES.values())
_BOUNDS = tuple(zip(DEVICE_TYPES, _CUMULATIVE, strict=True))
assert _BOUNDS[-1][1] == _SLOTS, "DEVICE_SHARES must add up to 100"


def device_type_of(device: str) -> str:
    """The type of the device (or member) `device`: the same in every process."""
    digest = hashlib.sha256(f"device-type:{device}".encode()).digest()
    slot = int.from_bytes(digest[:8], "big") % _SLOTS
    return next(kind for kind, bound in _BOUNDS if slot < bound)
