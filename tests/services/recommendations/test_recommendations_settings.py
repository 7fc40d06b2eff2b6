"""Settings from the environment, and their validation."""

from __future__ import annotations

import pytest

from services.common import ServiceSettings, SettingsError
from services.recommendations.settings import RecommendationsSettings


def test_defaults_from_an_empty_environment():
    settings = RecommendationsSettings.from_env({})
    assert settings.service.port == 8082
    assert settings.profiles.base_url == "http://127.0.0.1:8084"
    assert settings.catalog.base_url == "http://127.0.0.1:8081"
    assert settings.default_region == "US"


def test_environment_overrides():
    settings = RecommendationsSettings.from_env(
        {
            "CHAOSBED_CATALOG_URL": "http://catalog:8081/",
            "CHAOSBED_PROFILES_TIMEOUT_MS": "250",
            "CHAOSBED_RECOMMENDATIONS_DEFAULT_REGION": "GB",
            "CHAOSBED_RECOMMENDATIONS_ROW_SIZE": "5",
        }
    )
    assert settings.catalog.base_url == "http://catalog:8081"
    assert settings.profiles.timeout_s == 0.25
    assert (settings.default_region, settings.row_size) == ("GB", 5)


def test_a_non_numeric_value_names_the_variable():
    with pytest.raises(SettingsError, match="CHAOSBED_RECOMMENDATIONS_ROW_SIZE"):
        RecommendationsSettings.from_env({"CHAOSBED_RECOMMENDATIONS_ROW_SIZE": "ten"})


def test_an_unknown_default_region_is_refused():
    base = RecommendationsSettings.from_env({})
    with pytest.raises(ValueError, match="default_region"):
        RecommendationsSettings(
            ServiceSettings("recommendations", 0), base.profiles, base.catalog, default_region="XX"
        )
