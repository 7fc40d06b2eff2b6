"""Playback settings from the environment, and their validation."""

from __future__ import annotations

import pytest

from services.common import SettingsError
from services.playback.settings import PlaybackSettings


def test_defaults_from_an_empty_environment():
    settings = PlaybackSettings.from_env({})
    assert settings.service.port == 8083
    assert settings.profile_cache_ttl_s == 300.0
    assert len(settings.cdns) == 3


def test_environment_overrides():
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


def test_a_bad_number_names_the_variable():
    with pytest.raises(SettingsError, match="TITLE_CACHE_SIZE"):
        PlaybackSettings.from_env({"CHAOSBED_PLAYBACK_TITLE_CACHE_SIZE": "lots"})


def test_a_zero_ttl_is_refused():
    with pytest.raises(ValueError, match="TTL"):
        PlaybackSettings.from_env({"CHAOSBED_PLAYBACK_PROFILE_CACHE_TTL_S": "0"})
