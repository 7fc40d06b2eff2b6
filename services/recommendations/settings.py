"""Settings of the recommendations service, read from the environment once.

=========================  =========  =====================================
setting                    default    environment key
=========================  =========  =====================================
default_region             US         CHAOSBED_RECOMMENDATIONS_DEFAULT_REGION
region                     us         CHAOSBED_REGION (us, eu, apac): the
                                      profiles replica read is this region's
row_size                   10         CHAOSBED_RECOMMENDATIONS_ROW_SIZE
max_genre_rows             3          (favourite-genre rows at most)
candidate_limit            50         titles asked of the catalog per list
popular_refresh_s          30 s       CHAOSBED_RECOMMENDATIONS_REFRESH_S
seed_retry_s               2 s        retry interval until the cache is seeded
=========================  =========  =====================================

The service and dependency settings (port, timeouts, retries, breakers) are
the kit's: `ServiceSettings` and `DependencySettings` (CHAOSBED_PROFILES_*,
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

SERVICE_NAME = "recommendations"
DEFAULT_PORT = PORTS[SERVICE_NAME]
DEFAULT_CATALOG_URL = default_url("catalog")


@dataclass(frozen=True)
class RecommendationsSettings:
    service: ServiceSettings
    profiles: DependencySettings
    catalog: DependencySettings
    region: str = "us"
    """The region this service runs in; `profiles` is that region's replica."""
    default_region: str = "US"
    row_size: int = 10
    max_genre_rows: int = 3
    candidate_limit: int = 50
    popular_refresh_s: float = 30.0
    seed_retry_s: float = 2.0

    def __post_init__(self) -> None:
        if self.default_region not in REGIONS:
            raise ValueError(f"default_region: {self.default_region!r} is not a catalog region")
        if self.row_size < 1 or self.candidate_limit < 1 or self.max_genre_rows < 0:
            raise ValueError("row_size and candidate_limit must be at least 1")
        if self.popular_refresh_s <= 0 or self.seed_retry_s <= 0:
            raise ValueError("refresh intervals must be positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RecommendationsSettings:
        env = os.environ if env is None else env
        prefix = "CHAOSBED_RECOMMENDATIONS_"
        region, profiles = regional_profiles(env)
        return cls(
            service=ServiceSettings.from_env(SERVICE_NAME, DEFAULT_PORT, env),
            region=region,
            profiles=profiles,
            catalog=DependencySettings.from_env("catalog", DEFAULT_CATALOG_URL, env),
            default_region=env.get(prefix + "DEFAULT_REGION", "").strip() or "US",
            row_size=env_int(env, prefix + "ROW_SIZE", 10, 1),
            popular_refresh_s=env_float(env, prefix + "REFRESH_S", 30.0, 0.001),
        )
