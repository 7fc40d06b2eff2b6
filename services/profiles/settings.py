"""Profiles settings, read from the environment once at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.common import ServiceSettings, SettingsError
from services.profiles.store import DEFAULT_IDEMPOTENCY_TTL_S

SERVICE_NAME = "profiles"
DEFAULT_PORT = 8084
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
            idempotency_ttl_s=_ttl(env, "CHAOSBED_PROFILES_IDEMPOTENCY_TTL_S"),
        )


def _ttl(env: Mapping[str, str], key: str) -> float:
    raw = env.get(key, "").strip()
    if not raw:
        return DEFAULT_IDEMPOTENCY_TTL_S
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{key}={raw!r} is not a number") from None
    if not value > 0:
        raise SettingsError(f"{key}={raw!r} must be a positive number of seconds")
    return value
