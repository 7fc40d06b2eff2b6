"""Catalog settings, read from the environment once at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.catalog.data import DEFAULT_SEED, DEFAULT_SIZE, MAX_SIZE
from services.common import ServiceSettings, env_int
from services.topology import PORTS

SERVICE_NAME = "catalog"
DEFAULT_PORT = PORTS[SERVICE_NAME]


@dataclass(frozen=True)
class CatalogSettings:
    service: ServiceSettings
    size: int = DEFAULT_SIZE
    """Number of titles (CHAOSBED_CATALOG_SIZE), ids 1..size."""
    seed: int = DEFAULT_SEED
    """Seed of the generator (CHAOSBED_CATALOG_SEED): same seed, same catalog."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CatalogSettings:
        env = os.environ if env is None else env
        return cls(
            service=ServiceSettings.from_env(SERVICE_NAME, DEFAULT_PORT, env),
            size=env_int(env, "CHAOSBED_CATALOG_SIZE", DEFAULT_SIZE, 1, MAX_SIZE),
            seed=env_int(env, "CHAOSBED_CATALOG_SEED", DEFAULT_SEED, 0, 2**63 - 1),
        )
