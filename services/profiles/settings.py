"""Profiles settings, read from the environment once at start.

=============================  ==========  =======================================
setting                        default     environment key
=============================  ==========  =======================================
region                         us          CHAOSBED_PROFILES_REGION (us, eu, apac)
db_path                        .chaosbed/  CHAOSBED_PROFILES_DB
                               data/<replica>.db
idempotency_ttl_s              24 h        CHAOSBED_PROFILES_IDEMPOTENCY_TTL_S
anti_entropy_s                 1 s         CHAOSBED_PROFILES_ANTI_ENTROPY_S
quorum_timeout_s               1 s         CHAOSBED_PROFILES_QUORUM_TIMEOUT_S
=============================  ==========  =======================================

The replica's service name is its region's ("profiles" for us, "profiles-eu",
"profiles-apac") and its default port comes from `services.topology`. Each
peer is a kit dependency named after its replica; its URL is
CHAOSBED_PROFILES_URL, CHAOSBED_PROFILES_EU_URL or CHAOSBED_PROFILES_APAC_URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from services.common import DependencySettings, ServiceSettings, SettingsError, env_float
from services.profiles.store import DEFAULT_IDEMPOTENCY_TTL_S
from services.topology import PORTS, default_url
from services.vocabulary.homes import REGIONS, peers_of, replica_name

SERVICE_NAME = "profiles"
DEFAULT_PORT = PORTS[SERVICE_NAME]
DEFAULT_DB_PATH = Path(".chaosbed/data/profiles.db")


def peer_dependency(region: str, env: Mapping[str, str]) -> DependencySettings:
    """The kit dependency on `region`'s replica: short timeout, breaker that half-opens in 1 s."""
    name = replica_name(region)
    variable = f"CHAOSBED_{name.upper().replace('-', '_')}_URL"
    url = (env.get(variable, "").strip() or default_url(name)).rstrip("/")
    return DependencySettings(name=name, base_url=url, timeout_s=0.5, breaker_reset_s=1.0)


@dataclass(frozen=True)
class ProfilesSettings:
    service: ServiceSettings
    db_path: Path = DEFAULT_DB_PATH
    """SQLite database (CHAOSBED_PROFILES_DB); its parent directories are created."""
    idempotency_ttl_s: float = DEFAULT_IDEMPOTENCY_TTL_S
    """How long a write's key is remembered (CHAOSBED_PROFILES_IDEMPOTENCY_TTL_S)."""
    region: str = "us"
    peers: tuple[DependencySettings, ...] = field(default_factory=tuple)
    """The other replicas; empty runs a lone replica (nothing to replicate to)."""
    anti_entropy_s: float = 1.0
    quorum_timeout_s: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProfilesSettings:
        env = os.environ if env is None else env
        region = env.get("CHAOSBED_PROFILES_REGION", "").strip() or "us"
        if region not in REGIONS:
            raise SettingsError(
                f"CHAOSBED_PROFILES_REGION: must be one of {', '.join(REGIONS)}, got {region!r}"
            )
        name = replica_name(region)
        service = ServiceSettings.from_env(name, PORTS[name], env)
        db_default = DEFAULT_DB_PATH if region == "us" else DEFAULT_DB_PATH.with_name(f"{name}.db")
        return cls(
            service=service,
            db_path=Path(env.get("CHAOSBED_PROFILES_DB", "").strip() or db_default),
            idempotency_ttl_s=env_float(
                env, "CHAOSBED_PROFILES_IDEMPOTENCY_TTL_S", DEFAULT_IDEMPOTENCY_TTL_S, 0.001
            ),
            region=region,
            peers=tuple(peer_dependency(peer, env) for peer in peers_of(region)),
            anti_entropy_s=env_float(env, "CHAOSBED_PROFILES_ANTI_ENTROPY_S", 1.0, 0.01),
            quorum_timeout_s=env_float(env, "CHAOSBED_PROFILES_QUORUM_TIMEOUT_S", 1.0, 0.01),
        )

    def alone(self) -> ProfilesSettings:
        """The same replica without peers."""
        return replace(self, peers=())
