"""Settings of the playback service, read from the environment once.

=====================  ============  ======================================
setting                default       environment key
=====================  ============  ======================================
default_region         US            CHAOSBED_PLAYBACK_DEFAULT_REGION
region                 us            CHAOSBED_REGION (us, eu, apac): the
                                     profiles replica read is this region's
profile_cache_size     10000         CHAOSBED_PLAYBACK_PROFILE_CACHE_SIZE
profile_cache_ttl_s    300 s         CHAOSBED_PLAYBACK_PROFILE_CACHE_TTL_S
title_cache_size       10000         CHAOSBED_PLAYBACK_TITLE_CACHE_SIZE
title_cache_ttl_s      3600 s        CHAOSBED_PLAYBACK_TITLE_CACHE_TTL_S
cdns                   3 hostnames   CHAOSBED_PLAYBACK_CDNS (comma-separated)
=====================  ============  ======================================

Service and dependency settings (port, timeouts, retries, breakers) are the
kit's: `ServiceSettings` and `DependencySettings` (CHAOSBED_PROFILES_*,
CHAOSBED_CATALOG_*).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.common import (
    DependencySettings,
    ServiceSettings,
    env_float,
    env_int,
    regional_profiles,
)
from services.topology import PORTS, default_url
from services.vocabulary import REGIONS

SERVICE_NAME = "playback"
DEFAULT_PORT = PORTS[SERVICE_NAME]
DEFAULT_CATALOG_URL = default_url("catalog")
DEFAULT_CDNS = ("cdn-a.chaosbed.test", "cdn-b.chaosbed.test", "cdn-c.chaosbed.test")


@dataclass(frozen=True)
class PlaybackSettings:
    service: ServiceSettings
    profiles: DependencySettings
    catalog: DependencySettings
    region: str = "us"
    """The region this service runs in; `profiles` is that region's replica."""
    default_region: str = "US"
    profile_cache_size: int = 10_000
    profile_cache_ttl_s: float = 300.0
    title_cache_size: int = 10_000
    title_cache_ttl_s: float = 3600.0
    cdns: tuple[str, ...] = DEFAULT_CDNS

    def __post_init__(self) -> None:
        if self.default_region not in REGIONS:
            raise ValueError(f"default_region: {self.default_region!r} is not a catalog region")
        if self.profile_cache_size < 1 or self.title_cache_size < 1:
            raise ValueError("cache sizes must be at least 1")
        if self.profile_cache_ttl_s <= 0 or self.title_cache_ttl_s <= 0:
            raise ValueError("cache TTLs must be positive")
        if not self.cdns:
            raise ValueError("cdns: at least one CDN hostname is needed")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PlaybackSettings:
        env = os.environ if env is None else env
        p = "CHAOSBED_PLAYBACK_"
        cdns = tuple(c.strip() for c in env.get(p + "CDNS", "").split(",") if c.strip())
        region, profiles = regional_profiles(env)
        return cls(
            service=ServiceSettings.from_env(SERVICE_NAME, DEFAULT_PORT, env),
            region=region,
            profiles=profiles,
            catalog=DependencySettings.from_env("catalog", DEFAULT_CATALOG_URL, env),
            default_region=env.get(p + "DEFAULT_REGION", "").strip() or "US",
            profile_cache_size=env_int(env, p + "PROFILE_CACHE_SIZE", 10_000, 1),
            profile_cache_ttl_s=env_float(env, p + "PROFILE_CACHE_TTL_S", 300.0, 0.001),
            title_cache_size=env_int(env, p + "TITLE_CACHE_SIZE", 10_000, 1),
            title_cache_ttl_s=env_float(env, p + "TITLE_CACHE_TTL_S", 3600.0, 0.001),
            cdns=cdns or DEFAULT_CDNS,
        )
