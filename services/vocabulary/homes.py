"""Regions and replicas: which replica is a member's home.

Three replicas, one per region, each with its own store. A member's home
region is a stable hash of the member id (SHA-256, first 8 bytes, modulo the
number of regions), so every replica, client and checker computes the same
home without asking anyone.
"""

from __future__ import annotations

import hashlib

from services.topology import PROFILES_REPLICAS

__all__ = ["REGIONS", "home_region", "home_replica", "peers_of", "replica_name"]

REGIONS: tuple[str, ...] = tuple(PROFILES_REPLICAS)


def replica_name(region: str) -> str:
    """The service name of `region`'s replica ("profiles" for us, "profiles-eu", ...)."""
    try:
        return PROFILES_REPLICAS[region]
    except KeyError:
        raise ValueError(f"region must be one of {', '.join(REGIONS)}, not {region!r}") from None


def home_region(member: str) -> str:
    digest = hashlib.sha256(member.encode()).digest()
    return REGIONS[int.from_bytes(digest[:8], "big") % len(REGIONS)]


def home_replica(member: str) -> str:
    return replica_name(home_region(member))


def peers_of(region: str) -> tuple[str, ...]:
    """The other regions, in REGIONS order."""
    replica_name(region)
    return tuple(other for other in REGIONS if other != region)
