"""Settings from the environment, and their validation."""

from __future__ import annotations

import pytest

from services.common import ServiceSettings, SettingsError
from services.recommendations.settings import RecommendationsSettings


def test_defaults_from_an_empty_environment() -> None:
    settings = RecommendationsSettings.from_env({})
    assert settings.service.port == 8082
    assert settings.profiles.base_url == "http://127.0.0.1:8084"
    assert settings.catalog.base_url == "http://127.0.0.1:8081"
    assert settings.default_region == "US"


def test_environment_overrides() -> None:
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


def test_a_non_numeric_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="CHAOSBED_RECOMMENDATIONS_ROW_SIZE"):
        RecommendationsSettings.from_env({"CHAOSBED_RECOMMENDATIONS_ROW_SIZE": "ten"})


def test_an_unknown_default_region_is_refused() -> None:
    base = RecommendationsSettings.from_env({})
    with pytest.raises(ValueError, match="default_region"):
        RecommendationsSettings(
            ServiceSettings("recommendations", 0), base.profiles, base.catalog, default_region="XX"
        )


def test_the_region_says_which_profiles_replica_is_read() -> None:
    assert RecommendationsSettings.from_env({}).region == "us"
    eu = RecommendationsSettings.from_env({"CHAOSBED_REGION": "eu"})
    assert (eu.region, eu.profiles.name) == ("eu", "profiles")
    assert eu.profiles.base_url == "http://127.0.0.1:8085"
    apac = RecommendationsSettings.from_env(
        {
            "CHAOSBED_REGION": "apac",
            "CHAOSBED_PROFILES_URL": "http://profiles:8084",
            "CHAOSBED_PROFILES_APAC_URL": "http://profiles-apac:8086/",
            "CHAOSBED_PROFILES_TIMEOUT_MS": "250",
        }
    )
    assert apac.profiles.base_url == "http://profiles-apac:8086"
    assert apac.profiles.timeout_s == 0.25  # the dependency's own settings still apply
    us = RecommendationsSettings.from_env({"CHAOSBED_PROFILES_URL": "http://profiles:8084"})
    assert us.profiles.base_url == "http://profiles:8084"


def test_an_unknown_region_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="CHAOSBED_REGION='mars' must be one of us, eu, apac"):
        RecommendationsSettings.from_env({"CHAOSBED_REGION": "mars"})
