"""Playback settings from the environment, and their validation."""

from __future__ import annotations

import pytest

from services.common import SettingsError
from services.playback.settings import PlaybackSettings


def test_defaults_from_an_empty_environment() -> None:
    settings = PlaybackSettings.from_env({})
    assert settings.service.port == 8083
    assert settings.profile_cache_ttl_s == 300.0
    assert len(settings.cdns) == 3


def test_environment_overrides() -> None:
    settings = PlaybackSettings.from_env(
        {
            "CHAOSBED_PLAYBACK_PROFILE_CACHE_TTL_S": "60",
            "CHAOSBED_PLAYBACK_CDNS": "x.test, y.test",
            "CHAOSBED_PLAYBACK_DEFAULT_REGION": "DE",
        }
    )
    assert settings.profile_cache_ttl_s == 60.0
    assert settings.cdns == ("x.test", "y.test")
    assert settings.default_region == "DE"


def test_a_bad_number_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="TITLE_CACHE_SIZE"):
        PlaybackSettings.from_env({"CHAOSBED_PLAYBACK_TITLE_CACHE_SIZE": "lots"})


def test_a_zero_ttl_is_refused() -> None:
    with pytest.raises(ValueError, match="TTL"):
        PlaybackSettings.from_env({"CHAOSBED_PLAYBACK_PROFILE_CACHE_TTL_S": "0"})


def test_the_region_says_which_profiles_replica_is_read() -> None:
    assert PlaybackSettings.from_env({}).region == "us"
    eu = PlaybackSettings.from_env({"CHAOSBED_REGION": "eu"})
    assert (eu.region, eu.profiles.name) == ("eu", "profiles")
    assert eu.profiles.base_url == "http://127.0.0.1:8085"
    apac = PlaybackSettings.from_env(
        {
            "CHAOSBED_REGION": "apac",
            "CHAOSBED_PROFILES_URL": "http://profiles:8084",
            "CHAOSBED_PROFILES_APAC_URL": "http://profiles-apac:8086/",
            "CHAOSBED_PROFILES_TIMEOUT_MS": "250",
        }
    )
    assert apac.profiles.base_url == "http://profiles-apac:8086"
    assert apac.profiles.timeout_s == 0.25  # the dependency's own settings still apply
    us = PlaybackSettings.from_env({"CHAOSBED_PROFILES_URL": "http://profiles:8084"})
    assert us.profiles.base_url == "http://profiles:8084"


def test_an_unknown_region_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="CHAOSBED_REGION='mars' must be one of us, eu, apac"):
        PlaybackSettings.from_env({"CHAOSBED_REGION": "mars"})
