"""Profiles settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common import SettingsError
from services.profiles.settings import ProfilesSettings


def test_defaults_without_environment() -> None:
    settings = ProfilesSettings.from_env({})
    assert settings.db_path == Path(".chaosbed/data/profiles.db")
    assert (settings.service.name, settings.service.port) == ("profiles", 8084)
    assert settings.idempotency_ttl_s == 24 * 3600


def test_database_path_and_key_ttl_come_from_the_environment() -> None:
    settings = ProfilesSettings.from_env(
        {"CHAOSBED_PROFILES_DB": "/data/profiles.db", "CHAOSBED_PROFILES_IDEMPOTENCY_TTL_S": "60"}
    )
    assert settings.db_path == Path("/data/profiles.db")
    assert settings.idempotency_ttl_s == 60.0


@pytest.mark.parametrize("value", ["soon", "0", "-5"])
def test_a_bad_key_ttl_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="CHAOSBED_PROFILES_IDEMPOTENCY_TTL_S"):
        ProfilesSettings.from_env({"CHAOSBED_PROFILES_IDEMPOTENCY_TTL_S": value})
