"""Profiles settings, read from the environment once at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.common import ServiceSettings, env_float
from services.ports import PORTS
from services.profiles.store import DEFAULT_IDEMPOTENCY_TTL_S

SERVICE_NAME = "profiles"
DEFAULT_PORT = PORTS[SERVICE_NAME]
DEFAULT_DB_PATH = Path(".chaosbed/data/profiles.db")


@dataclass(frozen=True)
class ProfilesSettings:
    service: ServiceSettings
    db_path: Path = DEFAULT_DB_PATH
    """SQLite database (CHAOSBED_PROFILES_DB); its parent directories are created."""
    idempotency_ttl_s: float = DEFAULT_IDEMPOTENCY_TTL_S
    """How long a write's key is remembered (CHAOSBED_PROFILES_IDEMPOTENCY_TTL_S)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProfilesSettings:
        env = os.environ if env is None else env
        return cls(
            service=ServiceSettings.from_env(SERVICE_NAME, DEFAULT_PORT, env),
            db_path=Path(env.get("CHAOSBED_PROFILES_DB", "").strip() or DEFAULT_DB_PATH),
            idempotency_ttl_s=env_float(
                env, "CHAOSBED_PROFILES_IDEMPOTENCY_TTL_S", DEFAULT_IDEMPOTENCY_TTL_S, 0.001
            ),
        )
