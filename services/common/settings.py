"""Settings: one frozen dataclass per concern, read from the environment once.

Per-dependency defaults (override with ``CHAOSBED_<NAME>_<KEY>``):

=======================  =======  ============================================
setting                  default  environment key
=======================  =======  ============================================
timeout_s (per try)      0.5 s    ``_TIMEOUT_MS`` (milliseconds); a try gets
                                  less when the deadline is short (timeouts.py)
min_try_s                50 ms    ``_MIN_TRY_MS``: a try cut by the deadline
                                  below this is not the dependency's timeout
attempts                 3        ``_ATTEMPTS`` (1 = no retries)
breaker_fail_max         5        ``_BREAKER_FAIL_MAX`` consecutive failures
breaker_failure_rate     0.5      ``_BREAKER_FAILURE_RATE`` share of failures
                                  in the window that opens it (0 < r <= 1)
breaker_min_calls        10       ``_BREAKER_MIN_CALLS`` calls in the window
                                  before the rate is judged
breaker_window_s         10 s     ``_BREAKER_WINDOW_S`` sliding window
breaker_reset_s          5 s      ``_BREAKER_RESET_S`` open -> half-open
breaker_half_open_calls  1        ``_BREAKER_HALF_OPEN_CALLS`` trial calls
bulkhead_size            32       ``_BULKHEAD`` calls in flight
max_body_bytes           4 MiB    ``_MAX_BODY_BYTES`` largest answer read
retry_budget_ratio       0.1      retries <= 10% of requests in the window
retry_budget_min_per_s   2.0      ... or a floor that accrues 2 retries/s,
                                  up to 2 saved (a token bucket, guards.py)
=======================  =======  ============================================

Service settings: ``CHAOSBED_DEFAULT_DEADLINE_MS`` (2000) is the budget of a
request that carries no ``X-Deadline-Ms``; ``CHAOSBED_MAX_DEADLINE_MS``
(60000) caps the budget a caller may ask for: a larger one is clamped to it.
``CHAOSBED_MUTANT`` (unset) starts the service with a named regression
switched on (mutants.py; an unknown name is refused, naming the known ones).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.topology import regional_profiles_url

from .mutants import ENV_VARIABLE as MUTANT_VARIABLE
from .mutants import UnknownMutant, parse_mutant


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


def env_float(
    env: Mapping[str, str],
    key: str,
    default: float,
    minimum: float,
    maximum: float | None = None,
) -> float:
    """A finite number from `env[key]`, `default` when unset; errors name the variable."""
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{key}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise SettingsError(f"{key}={raw!r} is not a finite number")
    if value < minimum:
        raise SettingsError(f"{key}={raw!r} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{key}={raw!r} must be at most {maximum}")
    return value


def env_int(
    env: Mapping[str, str], key: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    """An integer from `env[key]`, `default` when unset; errors name the variable."""
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{key}={raw!r} is not an integer") from None
    if value < minimum:
        raise SettingsError(f"{key}={raw!r} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{key}={raw!r} must be at most {maximum}")
    return value


@dataclass(frozen=True)
class ServiceSettings:
    name: str
    port: int
    host: str = "127.0.0.1"
    control_token: str | None = None
    default_deadline_ms: int = 2000
    max_deadline_ms: int = 60_000
    mutant: str | None = None
    """A named regression switched on at start (mutants.py); never on by default."""

    @classmethod
    def from_env(
        cls, name: str, default_port: int, env: Mapping[str, str] | None = None
    ) -> ServiceSettings:
        env = os.environ if env is None else env
        token = env.get("CHAOSBED_CONTROL_TOKEN", "").strip() or None
        try:
            mutant = parse_mutant(env.get(MUTANT_VARIABLE))
        except UnknownMutant as exc:
            raise SettingsError(str(exc)) from None
        return cls(
            name=name,
            port=env_int(env, "CHAOSBED_PORT", default_port, 0, 65535),
            host=env.get("CHAOSBED_HOST", "").strip() or "127.0.0.1",
            control_token=token,
            default_deadline_ms=env_int(env, "CHAOSBED_DEFAULT_DEADLINE_MS", 2000, 1),
            max_deadline_ms=env_int(env, "CHAOSBED_MAX_DEADLINE_MS", 60_000, 1),
            mutant=mutant,
        )


@dataclass(frozen=True)
class DependencySettings:
    name: str
    base_url: str
    timeout_s: float = 0.5
    min_try_s: float = 0.05
    attempts: int = 3
    backoff_s: float = 0.05
    backoff_max_s: float = 0.5
    breaker_fail_max: int = 5
    breaker_failure_rate: float = 0.5
    breaker_min_calls: int = 10
    breaker_window_s: float = 10.0
    breaker_reset_s: float = 5.0
    breaker_half_open_calls: int = 1
    bulkhead_size: int = 32
    max_body_bytes: int = 4 * 1024 * 1024
    retry_budget_ratio: float = 0.1
    retry_budget_min_per_s: float = 2.0
    retry_budget_window_s: float = 10.0

    @classmethod
    def from_env(
        cls, name: str, default_url: str, env: Mapping[str, str] | None = None
    ) -> DependencySettings:
        env = os.environ if env is None else env
        prefix = f"CHAOSBED_{name.upper()}_"
        defaults = cls(name=name, base_url=default_url)
        return cls(
            name=name,
            base_url=(env.get(prefix + "URL", "").strip() or default_url).rstrip("/"),
            timeout_s=env_float(env, prefix + "TIMEOUT_MS", defaults.timeout_s * 1000, 1) / 1000,
            min_try_s=env_float(env, prefix + "MIN_TRY_MS", defaults.min_try_s * 1000, 1) / 1000,
            attempts=env_int(env, prefix + "ATTEMPTS", defaults.attempts, 1),
            breaker_fail_max=env_int(
                env, prefix + "BREAKER_FAIL_MAX", defaults.breaker_fail_max, 1
            ),
            breaker_failure_rate=env_float(
                env, prefix + "BREAKER_FAILURE_RATE", defaults.breaker_failure_rate, 0.01, 1.0
            ),
            breaker_min_calls=env_int(
                env, prefix + "BREAKER_MIN_CALLS", defaults.breaker_min_calls, 1
            ),
            breaker_window_s=env_float(
                env, prefix + "BREAKER_WINDOW_S", defaults.breaker_window_s, 0.1
            ),
            breaker_reset_s=env_float(
                env, prefix + "BREAKER_RESET_S", defaults.breaker_reset_s, 0.01
            ),
            breaker_half_open_calls=env_int(
                env, prefix + "BREAKER_HALF_OPEN_CALLS", defaults.breaker_half_open_calls, 1
            ),
            bulkhead_size=env_int(env, prefix + "BULKHEAD", defaults.bulkhead_size, 1),
            max_body_bytes=env_int(env, prefix + "MAX_BODY_BYTES", defaults.max_body_bytes, 1),
        )


def regional_profiles(env: Mapping[str, str]) -> tuple[str, DependencySettings]:
    """(region, the profiles dependency) of a caller of profiles (recommendations, playback).

    CHAOSBED_REGION picks the replica it reads from (services/topology.py
    `regional_profiles_url`); the CHAOSBED_PROFILES_* settings apply to it,
    whichever replica it is. SettingsError, naming CHAOSBED_REGION, for an
    unknown region.
    """
    try:
        region, url = regional_profiles_url(env)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return region, DependencySettings.from_env(
        "profiles", url, {**env, "CHAOSBED_PROFILES_URL": url}
    )
